"""Settings read once from the environment (and a `.env` file in the repository root).

Every name here is part of CONTRACT.md. In sandbox mode every credential has a generated
stand-in value (keys are generated into ``var/sandbox/``); a credential set in the
environment always wins, in either mode. Production refuses to start while any credential
it needs is missing, and says which.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent

SANDBOX = "sandbox"
PRODUCTION = "production"

# Stand-in identities for sandbox mode (shaped like the real ones).
SANDBOX_MINIAPP_APPID = "wx5a9db0c0ffee0001"
SANDBOX_OA_APPID = "wx5a9db0c0ffee0002"
SANDBOX_OA_TOKEN = "alliancesandboxtoken"
SANDBOX_MCH_ID = "1900000109"
SANDBOX_PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092025110100000001"
SANDBOX_ALIPAY_APP_ID = "2021000000000001"
SANDBOX_ALIPAY_SELLER_ID = "2088000000000001"

# Credentials production needs; each maps to the Settings attribute holding it.
PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "WECHAT_MINIAPP_APPID",
    "WECHAT_MINIAPP_SECRET",
    "WECHAT_OA_APPID",
    "WECHAT_OA_SECRET",
    "WECHAT_OA_TOKEN",
    "WECHATPAY_MCH_ID",
    "WECHATPAY_APIV3_KEY",
    "WECHATPAY_CERT_SERIAL",
    "WECHATPAY_PRIVATE_KEY_FILE",
    "WECHATPAY_PUBLIC_KEY_FILE",
    "WECHATPAY_PUBLIC_KEY_ID",
    "ALIPAY_APP_ID",
    "ALIPAY_APP_PRIVATE_KEY_FILE",
    "ALIPAY_PUBLIC_KEY_FILE",
    "ALIPAY_SELLER_ID",
)

# Names whose values are secrets: never logged, never shown.
SECRET_NAMES = frozenset({
    "SECRET_KEY", "WECHAT_MINIAPP_SECRET", "WECHAT_OA_SECRET", "WECHAT_OA_TOKEN",
    "WECHAT_OA_AES_KEY", "WECHATPAY_APIV3_KEY", "WECHATPAY_API_KEY",
})


class ConfigurationError(Exception):
    """The configuration cannot run; ``missing`` names each absent setting."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()):
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class Settings:
    env: str = SANDBOX
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    var_dir: Path = ROOT / "var"

    wechat_miniapp_appid: str = ""
    wechat_miniapp_secret: str = field(default="", repr=False)
    wechat_oa_appid: str = ""
    wechat_oa_secret: str = field(default="", repr=False)
    wechat_oa_token: str = field(default="", repr=False)
    wechat_oa_aes_key: str | None = field(default=None, repr=False)
    wechat_api_base: str = "https://api.weixin.qq.com/"

    wechatpay_mch_id: str = ""
    wechatpay_apiv3_key: str = field(default="", repr=False)
    wechatpay_cert_serial: str = ""
    wechatpay_private_key_file: str = ""
    wechatpay_public_key_file: str = ""
    wechatpay_public_key_id: str = ""
    wechatpay_api_key: str | None = field(default=None, repr=False)
    wechatpay_cert_file: str | None = None
    wechatpay_api_base: str = "https://api.mch.weixin.qq.com/"

    alipay_app_id: str = ""
    alipay_app_private_key_file: str = ""
    alipay_public_key_file: str = ""
    alipay_seller_id: str = ""
    alipay_gateway: str = "https://openapi.alipay.com/gateway.do"

    sandbox_wechatpay_private_key_file: str = ""
    sandbox_alipay_private_key_file: str = ""
    # The merchant's public keys as the providers hold them (empty: the public half of
    # WECHATPAY_PRIVATE_KEY_FILE / ALIPAY_APP_PRIVATE_KEY_FILE).
    sandbox_merchant_public_key_file: str = ""
    sandbox_alipay_app_public_key_file: str = ""

    # Operational knobs (not credentials).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    db_max_connections: int = 16
    worker_threads: int = 16
    access_token_ttl_s: int = 2 * 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600
    upstream_timeout_s: float = 5.0
    login_rate_limit_per_min: int = 30
    redemption_undo_minutes: int = 30

    @property
    def is_sandbox(self) -> bool:
        return self.env == SANDBOX

    @property
    def local_origin(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}"

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (tests and sub-commands use it)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a `.env` file (missing file: none)."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(environ: Mapping[str, str] | None = None, *, root: Path = ROOT,
                  use_dotenv: bool = True) -> Settings:
    """Build the Settings from ``environ`` (default: the process environment plus `.env`).

    Raises ConfigurationError when production lacks a credential or a value is malformed.
    """
    env: dict[str, str] = {}
    if use_dotenv:
        env.update(read_dotenv(root / ".env"))
    env.update(os.environ if environ is None else environ)
    get = lambda name: (env.get(name) or "").strip() or None  # noqa: E731

    mode = (get("ALLIANCE_ENV") or SANDBOX).lower()
    if mode not in (SANDBOX, PRODUCTION):
        raise ConfigurationError(f"ALLIANCE_ENV must be sandbox or production, not {mode!r}")
    var_dir = Path(get("ALLIANCE_VAR_DIR") or root / "var")

    if mode == PRODUCTION:
        missing = tuple(name for name in PRODUCTION_REQUIRED if not get(name))
        if missing:
            raise ConfigurationError(
                "production mode is missing required settings: " + ", ".join(missing), missing)
    try:
        port = int(get("PORT") or 8000)
    except ValueError:
        raise ConfigurationError("PORT must be a number") from None
    host = get("HOST") or "127.0.0.1"

    values: dict = dict(
        env=mode,
        database_url=get("DATABASE_URL") or f"sqlite:///{var_dir / 'alliance.sqlite3'}",
        redis_url=get("REDIS_URL"),
        host=host,
        port=port,
        public_base_url=(get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        var_dir=var_dir,
    )
    for name in ("WECHAT_MINIAPP_APPID", "WECHAT_MINIAPP_SECRET", "WECHAT_OA_APPID",
                 "WECHAT_OA_SECRET", "WECHAT_OA_TOKEN", "WECHAT_OA_AES_KEY", "WECHAT_API_BASE",
                 "WECHATPAY_MCH_ID", "WECHATPAY_APIV3_KEY", "WECHATPAY_CERT_SERIAL",
                 "WECHATPAY_PRIVATE_KEY_FILE", "WECHATPAY_PUBLIC_KEY_FILE",
                 "WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_API_KEY", "WECHATPAY_CERT_FILE",
                 "WECHATPAY_API_BASE",
                 "ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY_FILE", "ALIPAY_PUBLIC_KEY_FILE",
                 "ALIPAY_SELLER_ID", "ALIPAY_GATEWAY", "SECRET_KEY",
                 "SANDBOX_WECHATPAY_PRIVATE_KEY_FILE", "SANDBOX_ALIPAY_PRIVATE_KEY_FILE",
                 "SANDBOX_MERCHANT_PUBLIC_KEY_FILE", "SANDBOX_ALIPAY_APP_PUBLIC_KEY_FILE"):
        if get(name):
            values[name.lower()] = get(name)
    for name, attr in (("ALLIANCE_MAX_BODY_BYTES", "max_body_bytes"),
                       ("ALLIANCE_DB_MAX_CONNECTIONS", "db_max_connections"),
                       ("ALLIANCE_WORKER_THREADS", "worker_threads"),
                       ("ALLIANCE_LOGIN_RATE_LIMIT_PER_MIN", "login_rate_limit_per_min"),
                       ("ALLIANCE_REDEMPTION_UNDO_MINUTES", "redemption_undo_minutes")):
        if get(name):
            try:
                values[attr] = int(get(name))
            except ValueError:
                raise ConfigurationError(f"{name} must be a number") from None

    if mode == SANDBOX:
        values = _fill_sandbox_values(values, var_dir)
    for base in ("wechat_api_base", "wechatpay_api_base"):
        if base in values and not values[base].endswith("/"):
            values[base] += "/"
    settings = Settings(**values)
    if settings.wechat_oa_aes_key and len(settings.wechat_oa_aes_key) != 43:
        raise ConfigurationError("WECHAT_OA_AES_KEY must be the 43-character EncodingAESKey")
    return settings


def _fill_sandbox_values(values: dict, var_dir: Path) -> dict:
    """Generated stand-ins for every credential the environment did not set."""
    from config import sandbox_keys

    origin = f"http://{'127.0.0.1' if values['host'] in ('0.0.0.0', '::') else values['host']}:{values['port']}"
    keys = sandbox_keys.ensure(var_dir / "sandbox")
    defaults = dict(
        secret_key=keys.secret_key,
        wechat_miniapp_appid=SANDBOX_MINIAPP_APPID,
        wechat_miniapp_secret=keys.miniapp_secret,
        wechat_oa_appid=SANDBOX_OA_APPID,
        wechat_oa_secret=keys.oa_secret,
        wechat_oa_token=SANDBOX_OA_TOKEN,
        wechat_api_base=f"{origin}/_sandbox/wechat/",
        wechatpay_mch_id=SANDBOX_MCH_ID,
        wechatpay_apiv3_key=keys.apiv3_key,
        wechatpay_cert_serial=keys.merchant_cert_serial,
        wechatpay_private_key_file=str(keys.merchant_private_key),
        wechatpay_public_key_file=str(keys.wechatpay_public_key),
        wechatpay_public_key_id=SANDBOX_PUBLIC_KEY_ID,
        wechatpay_api_base=f"{origin}/_sandbox/wechatpay/",
        alipay_app_id=SANDBOX_ALIPAY_APP_ID,
        alipay_app_private_key_file=str(keys.alipay_app_private_key),
        alipay_public_key_file=str(keys.alipay_public_key),
        alipay_seller_id=SANDBOX_ALIPAY_SELLER_ID,
        alipay_gateway=f"{origin}/_sandbox/alipay/gateway.do",
        sandbox_wechatpay_private_key_file=str(keys.wechatpay_private_key),
        sandbox_alipay_private_key_file=str(keys.alipay_private_key),
    )
    for name, value in defaults.items():
        values.setdefault(name, value)
    return values


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
