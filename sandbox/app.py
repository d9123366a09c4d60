"""Mounting the sandbox: its routes, its own thread pool and its provider stand-ins."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from config.settings import Settings
from sandbox import alipay, wechat, wechatpay, wechatpay_v2


def sandbox_extras(settings: Settings) -> dict:
    # A pool of its own: a request of ours that waits on the sandbox must never wait for a
    # thread that only our own requests could free.
    return {"sandbox_executor": ThreadPoolExecutor(8, thread_name_prefix="sandbox"),
            "wechat_sandbox": wechat.WechatSandbox(settings),
            "wechatpay_sandbox": wechatpay.WechatPaySandbox(settings),
            "wechatpay_v2_sandbox": wechatpay_v2.WechatPayV2Sandbox(settings),
            "alipay_sandbox": alipay.AlipaySandbox(settings)}


def sandbox_routes() -> list:
    return wechat.routes() + wechatpay.routes() + wechatpay_v2.routes() + alipay.routes()
