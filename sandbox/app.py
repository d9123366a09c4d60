"""Mounting the sandbox: its routes, its own thread pool and its provider stand-ins."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from config.settings import Settings
from sandbox import oa_push, wechat, wechat_oa


def sandbox_extras(settings: Settings) -> dict:
    # A pool of its own: a request of ours that waits on the sandbox must never wait for a
    # thread that only our own requests could free.
    core = wechat.WechatSandbox(settings)
    return {"sandbox_executor": ThreadPoolExecutor(8, thread_name_prefix="sandbox"),
            "wechat_sandbox": core,
            "wechat_oa_sandbox": wechat_oa.WechatOaSandbox(core, settings.wechat_oa_appid)}


def sandbox_routes() -> list:
    return wechat.routes() + wechat_oa.routes() + oa_push.routes()
