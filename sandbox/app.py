"""Mounting the sandbox: its routes, its own thread pool and its provider stand-ins."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from config.settings import Settings
from sandbox import alipay, mail, oa_push, sms, wechat, wechat_oa, wechatpay, wechatpay_v2


def sandbox_extras(settings: Settings) -> dict:
    # A pool of its own: a request of ours that waits on the sandbox must never wait for a
    # thread that only our own requests could free.
    executor = ThreadPoolExecutor(8, thread_name_prefix="sandbox")
    core = wechat.WechatSandbox(settings)
    return {"sandbox_executor": executor,
            "wechat_sandbox": core,
            "wechat_oa_sandbox": wechat_oa.WechatOaSandbox(core, settings.wechat_oa_appid),
            "wechatpay_sandbox": wechatpay.WechatPaySandbox(settings),
            "wechatpay_v2_sandbox": wechatpay_v2.WechatPayV2Sandbox(settings),
            "alipay_sandbox": alipay.AlipaySandbox(settings),
            "sms_sandbox": sms.SmsSandbox(settings),
            "mail_sandbox": mail.SandboxSmtpServer(settings.smtp_user or "",
                                                   settings.smtp_password or "", executor)}


def sandbox_routes() -> list:
    return (wechat.routes() + wechat_oa.routes() + oa_push.routes() + wechatpay.routes()
            + wechatpay_v2.routes() + alipay.routes() + sms.routes() + mail.routes())
