"""What the handlers share: settings, the thread pool and the adapters chosen at start-up."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from alliance.accounts.codes import CodeLimits
from alliance.accounts.tokens import TokenService
from alliance.members.member_code import MemberCodeSigner
from alliance.notifications.delivery import Channels
from alliance.ports import (MailSender, Notifier, OaProfiles, QrCodeProvider, SmsSender,
                            Storage, WeChatAuth)
from alliance.protect import FieldProtector
from config.settings import Settings
from server.clients import ClientAddresses


@dataclass
class AppContext:
    settings: Settings
    executor: ThreadPoolExecutor
    tokens: TokenService
    wechat_auth: WeChatAuth
    rate_limiter: Any
    notifier: Notifier
    storage: Storage
    protector: FieldProtector
    member_codes: MemberCodeSigner
    qr_codes: QrCodeProvider
    oa_profiles: OaProfiles
    outbox_channels: Channels
    sms: SmsSender
    mailer: MailSender
    code_limits: CodeLimits
    client_addresses: ClientAddresses
    # Prompt deliveries of notifications wait on WeChat's answers: their own threads, so
    # that a burst of payments never leaves requests without a worker.
    delivery_executor: ThreadPoolExecutor | None = None
    # Backups started from the console are written here: one thread, never a request worker.
    backup_executor: ThreadPoolExecutor | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def shutdown(self) -> None:
        """Let the running work finish and stop the threads (server stop, test tear-down)."""
        self.executor.shutdown(wait=True)
        if self.delivery_executor is not None:
            self.delivery_executor.shutdown(wait=True)
        if self.backup_executor is not None:  # a backup being written is finished first
            self.backup_executor.shutdown(wait=True)
        if "sandbox_executor" in self.extras:
            self.extras["sandbox_executor"].shutdown(wait=True)
