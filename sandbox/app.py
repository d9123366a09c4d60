"""Mounting the sandbox: its routes, its own thread pool and its provider stand-ins."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from config.settings import Settings
from sandbox import mail, sms, wechat


def sandbox_extras(settings: Settings) -> dict:
    # A pool of its own: a request of ours that waits on the sandbox must never wait for a
    # thread that only our own requests could free.
    executor = ThreadPoolExecutor(8, thread_name_prefix="sandbox")
    return {"sandbox_executor": executor,
            "wechat_sandbox": wechat.WechatSandbox(settings),
            "sms_sandbox": sms.SmsSandbox(settings),
            "mail_sandbox": mail.SandboxSmtpServer(settings.smtp_user or "",
                                                   settings.smtp_password or "", executor)}


def sandbox_routes() -> list:
    return wechat.routes() + sms.routes() + mail.routes()
