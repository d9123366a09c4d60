"""Settings read once from the environment (and a `.env` file in the repository root).

Every name here is part of CONTRACT.md. In sandbox mode every credential has a generated
stand-in value (keys are generated into ``var/sandbox/``); a credential set in the
environment always wins, in either mode. Production refuses to start while any credential
it needs is missing, and says which.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from config.values import ConfigurationError, parse_networks, parse_schedules

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
SANDBOX_ALIYUN_ACCESS_KEY_ID = "LTAI5tSandboxAlliance0001"
SANDBOX_SMS_SIGN_NAME = "异业联盟"
SANDBOX_SMS_TEMPLATE_CODE = "SMS_000000001"
SANDBOX_MAIL_FROM = "no-reply@sandbox.alliance.test"
SMTP_SECURITY_CHOICES = ("ssl", "starttls", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

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
    "ALIYUN_SMS_ACCESS_KEY_ID",
    "ALIYUN_SMS_ACCESS_KEY_SECRET",
    "ALIYUN_SMS_SIGN_NAME",
    "ALIYUN_SMS_TEMPLATE_CODE",
    "SMTP_HOST",
    "SMTP_FROM",
)

# Names whose values are secrets: never logged, never shown.
SECRET_NAMES = frozenset({
    "SECRET_KEY", "WECHAT_MINIAPP_SECRET", "WECHAT_OA_SECRET", "WECHAT_OA_TOKEN",
    "WECHAT_OA_AES_KEY", "WECHATPAY_APIV3_KEY", "WECHATPAY_API_KEY",
    "ALIYUN_SMS_ACCESS_KEY_SECRET", "SMTP_PASSWORD",
})


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
    # The key of the stand-in's platform certificate (GET /v3/certificates), under which it
    # signs the notifications a control call asks for (a merchant moving to the public key).
    sandbox_wechatpay_platform_key_file: str = ""
    sandbox_alipay_private_key_file: str = ""
    # The merchant's public keys as the providers hold them (empty: the public half of
    # WECHATPAY_PRIVATE_KEY_FILE / ALIPAY_APP_PRIVATE_KEY_FILE).
    sandbox_merchant_public_key_file: str = ""
    sandbox_alipay_app_public_key_file: str = ""

    aliyun_sms_access_key_id: str = ""
    aliyun_sms_access_key_secret: str = field(default="", repr=False)
    aliyun_sms_sign_name: str = ""
    aliyun_sms_template_code: str = ""
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"

    smtp_host: str = ""
    smtp_port: int = 465  # 0 (sandbox only): the sandbox's SMTP stand-in, port chosen at start
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = ""
    smtp_security: str = "ssl"  # ssl | starttls | none

    # Operational knobs (not credentials).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    upload_daily_bytes: int = 1024 * 1024 * 1024  # per account, in any 24 hours
    body_timeout_s: int = 60  # a request body must arrive within this (Tornado holds it whole)
    # Peers whose X-Real-IP / X-Forwarded-For name the client (the reverse proxy); from any
    # other peer those headers are ignored, so that rate limits key on the real address.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    db_max_connections: int = 16
    worker_threads: int = 16
    delivery_threads: int = 8
    delivery_processes: int = 1  # python -m server: processes that send notifications
    log_level: str = "INFO"  # INFO writes an access line per request; WARNING only 4xx/5xx
    access_token_ttl_s: int = 2 * 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600
    upstream_timeout_s: float = 5.0
    login_rate_limit_per_min: int = 30
    code_daily_limit_per_address: int = 10
    code_daily_limit_per_ip: int = 30

    # Scheduled work (python -m scheduler).
    scheduler_schedules: tuple[tuple[str, str], ...] = ()  # (job name, seconds | off | cron:...)
    scheduler_misfire_grace_s: int = 300
    scheduler_run_retention_days: int = 30
    wechat_token_refresh_margin_s: int = 900
    order_payment_deadline_minutes: int = 30
    # Referrals, QR codes and notifications.
    referral_window_days: int = 7
    referral_reward_points: int = 100
    poster_font_file: str | None = None
    # JSON objects: event -> template (see alliance/notifications/templates.py); None: the
    # sandbox defaults in sandbox mode, no such channel in production.
    wechat_subscribe_templates: str | None = None
    wechat_oa_templates: str | None = None
    redemption_undo_minutes: int = 30
    merchant_push_daily_limit: int = 3
    platform_push_daily_limit: int = 3
    # Settlement: the platform's commission per paid order, in basis points of what was paid
    # (0..10000; a merchant's own ``commission_bp`` overrides it).
    platform_commission_bp: int = 0
    # Seconds a process keeps a merchant's public detail page (0: computed on every view);
    # the nearby list's items re-read their ratings every ten times as long (0: never kept).
    detail_cache_seconds: int = 60
    # Backups (python -m server backup, the console, the daily job): where their files go,
    # and how many successful ones are kept (the newest is never deleted).
    backup_dir: Path = ROOT / "var" / "backups"
    backup_keep: int = 7

    @property
    def is_sandbox(self) -> bool:
        return self.env == SANDBOX

    @property
    def local_origin(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}"

    def redact(self, text: str) -> str:
        """``text`` with every secret value of these settings masked (for errors shown)."""
        for name in SECRET_NAMES:
            value = getattr(self, name.lower(), None)
            if value:
                text = text.replace(value, "***")
        return text

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
        backup_dir=Path(get("BACKUP_DIR") or var_dir / "backups").absolute(),
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
                 "SANDBOX_MERCHANT_PUBLIC_KEY_FILE", "SANDBOX_ALIPAY_APP_PUBLIC_KEY_FILE",
                 "ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
                 "ALIYUN_SMS_SIGN_NAME", "ALIYUN_SMS_TEMPLATE_CODE", "ALIYUN_SMS_ENDPOINT",
                 "SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM"):
        if get(name):
            values[name.lower()] = get(name)
    for name, attr in (("ALLIANCE_MAX_BODY_BYTES", "max_body_bytes"),
                       ("ALLIANCE_MAX_UPLOAD_BYTES", "max_upload_bytes"),
                       ("ALLIANCE_UPLOAD_DAILY_BYTES", "upload_daily_bytes"),
                       ("ALLIANCE_DB_MAX_CONNECTIONS", "db_max_connections"),
                       ("ALLIANCE_WORKER_THREADS", "worker_threads"),
                       ("ALLIANCE_DELIVERY_THREADS", "delivery_threads"),
                       ("ALLIANCE_DELIVERY_PROCESSES", "delivery_processes"),
                       ("ALLIANCE_LOGIN_RATE_LIMIT_PER_MIN", "login_rate_limit_per_min"),
                       ("SCHEDULER_MISFIRE_GRACE_S", "scheduler_misfire_grace_s"),
                       ("SCHEDULER_RUN_RETENTION_DAYS", "scheduler_run_retention_days"),
                       ("WECHAT_TOKEN_REFRESH_MARGIN_S", "wechat_token_refresh_margin_s"),
                       ("ORDER_PAYMENT_DEADLINE_MINUTES", "order_payment_deadline_minutes"),
                       ("REFERRAL_WINDOW_DAYS", "referral_window_days"),
                       ("REFERRAL_REWARD_POINTS", "referral_reward_points"),
                       ("ALLIANCE_CODE_DAILY_LIMIT_PER_ADDRESS", "code_daily_limit_per_address"),
                       ("ALLIANCE_CODE_DAILY_LIMIT_PER_IP", "code_daily_limit_per_ip"),
                       ("SMTP_PORT", "smtp_port"),
                       ("ALLIANCE_REDEMPTION_UNDO_MINUTES", "redemption_undo_minutes"),
                       ("MERCHANT_PUSH_DAILY_LIMIT", "merchant_push_daily_limit"),
                       ("PLATFORM_PUSH_DAILY_LIMIT", "platform_push_daily_limit"),
                       ("ALLIANCE_PLATFORM_COMMISSION_BP", "platform_commission_bp"),
                       ("ALLIANCE_DETAIL_CACHE_SECONDS", "detail_cache_seconds"),
                       ("ALLIANCE_BODY_TIMEOUT_S", "body_timeout_s"),
                       ("BACKUP_KEEP", "backup_keep")):
        if get(name):
            try:
                values[attr] = int(get(name))
            except ValueError:
                raise ConfigurationError(f"{name} must be a number") from None
    if not 0 <= values.get("platform_commission_bp", 0) <= 10_000:
        raise ConfigurationError("ALLIANCE_PLATFORM_COMMISSION_BP must be 0..10000 (basis points)")
    if values.get("backup_keep", 1) < 1:
        raise ConfigurationError("BACKUP_KEEP must be at least 1 (the newest backup is kept)")
    if get("SCHEDULER_SCHEDULES"):
        values["scheduler_schedules"] = parse_schedules(get("SCHEDULER_SCHEDULES"))
    if env.get("TRUSTED_PROXIES") is not None:  # set and empty: trust no peer
        values["trusted_proxies"] = parse_networks(env["TRUSTED_PROXIES"])

    for name in ("POSTER_FONT_FILE", "WECHAT_SUBSCRIBE_TEMPLATES", "WECHAT_OA_TEMPLATES"):
        if get(name):
            values[name.lower()] = get(name)
    for name in ("WECHAT_SUBSCRIBE_TEMPLATES", "WECHAT_OA_TEMPLATES"):
        if get(name) and not _is_json_object(get(name)):
            raise ConfigurationError(f"{name} must be a JSON object (event -> template)")

    if get("LOG_LEVEL"):
        values["log_level"] = get("LOG_LEVEL").upper()
        if values["log_level"] not in LOG_LEVELS:
            raise ConfigurationError("LOG_LEVEL must be one of " + ", ".join(LOG_LEVELS))
    if get("SMTP_SECURITY"):
        values["smtp_security"] = get("SMTP_SECURITY").lower()
        if values["smtp_security"] not in SMTP_SECURITY_CHOICES:
            raise ConfigurationError("SMTP_SECURITY must be one of " + ", ".join(SMTP_SECURITY_CHOICES))
    if values.get("smtp_port") == 0 and mode != SANDBOX:
        raise ConfigurationError("SMTP_PORT 0 (the sandbox mailbox) exists in sandbox mode only")

    if mode == SANDBOX:
        values = _fill_sandbox_values(values, var_dir)
    for base in ("wechat_api_base", "wechatpay_api_base", "aliyun_sms_endpoint"):
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
        sandbox_wechatpay_platform_key_file=str(keys.wechatpay_platform_private_key),
        sandbox_alipay_private_key_file=str(keys.alipay_private_key),
        aliyun_sms_access_key_id=SANDBOX_ALIYUN_ACCESS_KEY_ID,
        aliyun_sms_access_key_secret=_derived_secret(keys.secret_key, "aliyun-sms"),
        aliyun_sms_sign_name=SANDBOX_SMS_SIGN_NAME,
        aliyun_sms_template_code=SANDBOX_SMS_TEMPLATE_CODE,
        aliyun_sms_endpoint=f"{origin}/_sandbox/sms/",
        smtp_from=SANDBOX_MAIL_FROM,
    )
    if "smtp_host" not in values:
        # No mail server configured: the sandbox's own SMTP server takes the mail.
        defaults.update(smtp_host="127.0.0.1", smtp_port=0, smtp_security="none",
                        smtp_user="alliance",
                        smtp_password=_derived_secret(keys.secret_key, "smtp"))
    for name, value in defaults.items():
        values.setdefault(name, value)
    return values


def _is_json_object(text: str) -> bool:
    import json

    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
def _derived_secret(secret_key: str, purpose: str) -> str:
    """A sandbox credential derived from the sandbox's secret key (stable across restarts)."""
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:30]


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
