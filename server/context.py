"""What the handlers share: settings, the thread pool and the adapters chosen at start-up."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from alliance.accounts.tokens import TokenService
from alliance.notifications.delivery import Channels
from alliance.ports import Notifier, OaProfiles, QrCodeProvider, WeChatAuth
from config.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    executor: ThreadPoolExecutor
    tokens: TokenService
    wechat_auth: WeChatAuth
    rate_limiter: Any
    notifier: Notifier
    qr_codes: QrCodeProvider | None = None
    oa_profiles: OaProfiles | None = None
    outbox_channels: Channels | None = None
    extras: dict[str, Any] = field(default_factory=dict)
