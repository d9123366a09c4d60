"""Configuration: sandbox defaults, environment overrides, production's refusal."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PRODUCTION_REQUIRED, ConfigurationError, load_settings
from tests.support import VAR_DIR

ROOT = Path(__file__).resolve().parents[2]


def production_env() -> dict:
    keys = VAR_DIR / "sandbox"
    load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR)}, use_dotenv=False)  # makes the key files
    values = {name: f"value-of-{name.lower()}" for name in PRODUCTION_REQUIRED}
    values.update({
        "ALLIANCE_ENV": "production", "SECRET_KEY": "p" * 48,
        "WECHATPAY_PRIVATE_KEY_FILE": str(keys / "merchant_private_key.pem"),
        "WECHATPAY_PUBLIC_KEY_FILE": str(keys / "wechatpay_public_key.pem"),
        "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0000",
        "ALIPAY_APP_PRIVATE_KEY_FILE": str(keys / "alipay_app_private_key.pem"),
        "ALIPAY_PUBLIC_KEY_FILE": str(keys / "alipay_public_key.pem"),
    })
    return values


def test_sandbox_fills_every_credential():
    settings = load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), "PORT": "8123"}, use_dotenv=False)
    assert settings.is_sandbox and len(settings.secret_key) >= 32
    assert settings.wechat_api_base == "http://127.0.0.1:8123/_sandbox/wechat/"
    assert Path(settings.wechatpay_private_key_file).exists()
    assert settings.database_url.endswith("alliance.sqlite3")


def test_credential_in_environment_overrides_the_sandbox_value():
    settings = load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), "WECHAT_MINIAPP_APPID": "wxmine",
                              "WECHATPAY_PUBLIC_KEY_FILE": "/keys/pub.pem"}, use_dotenv=False)
    assert settings.wechat_miniapp_appid == "wxmine"
    assert settings.wechatpay_public_key_file == "/keys/pub.pem"


def test_production_names_each_missing_setting():
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"ALLIANCE_ENV": "production", "WECHAT_MINIAPP_APPID": "wx1"},
                      use_dotenv=False)
    assert "WECHAT_MINIAPP_APPID" not in caught.value.missing
    assert {"SECRET_KEY", "WECHATPAY_MCH_ID", "ALIPAY_APP_ID"} <= set(caught.value.missing)


def test_production_with_every_credential_loads():
    settings = load_settings(production_env(), use_dotenv=False)
    assert not settings.is_sandbox and settings.wechat_api_base == "https://api.weixin.qq.com/"


def test_server_in_production_without_credentials_exits_nonzero_naming_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT", "ALIPAY", "SECRET"))}
    env.update(ALLIANCE_ENV="production", ALLIANCE_VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "server", "--port", "0"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    for name in ("SECRET_KEY", "WECHAT_MINIAPP_SECRET", "WECHATPAY_APIV3_KEY", "ALIPAY_SELLER_ID"):
        assert name in result.stderr


def test_malformed_aes_key_is_refused():
    with pytest.raises(ConfigurationError):
        load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), "WECHAT_OA_AES_KEY": "short"},
                      use_dotenv=False)


def test_scheduler_settings_have_defaults_and_read_the_environment():
    defaults = load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR)}, use_dotenv=False)
    assert (defaults.order_payment_deadline_minutes, defaults.scheduler_misfire_grace_s,
            defaults.wechat_token_refresh_margin_s, defaults.scheduler_schedules) == (30, 300, 900, ())
    settings = load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), "ORDER_PAYMENT_DEADLINE_MINUTES": "15",
                              "SCHEDULER_RUN_RETENTION_DAYS": "7",
                              "SCHEDULER_SCHEDULES": "a.b=60;c.d=off"}, use_dotenv=False)
    assert settings.order_payment_deadline_minutes == 15 and settings.scheduler_run_retention_days == 7
    assert settings.scheduler_schedules == (("a.b", "60"), ("c.d", "off"))


def test_redact_masks_every_secret_value():
    settings = load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR)}, use_dotenv=False)
    text = settings.redact(f"secret={settings.wechat_oa_secret}&key={settings.secret_key}")
    assert text == "secret=***&key=***"
def test_message_templates_must_be_json_objects():
    with pytest.raises(ConfigurationError, match="WECHAT_SUBSCRIBE_TEMPLATES"):
        load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), "WECHAT_SUBSCRIBE_TEMPLATES": "[1]"},
                      use_dotenv=False)
    settings = load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), "REFERRAL_WINDOW_DAYS": "3",
                              "WECHAT_OA_TEMPLATES": '{"order.paid": {"template_id": "t"}}'},
                             use_dotenv=False)
    assert settings.referral_window_days == 3 and "order.paid" in settings.wechat_oa_templates


def test_production_without_message_templates_has_no_such_channel():
    from alliance.notifications.templates import TemplateBook

    settings = load_settings(production_env(), use_dotenv=False)
    book = TemplateBook.from_settings(settings)
    assert book.subscribe == {} and book.oa == {}


def test_log_level_reads_the_environment_and_refuses_unknown_levels():
    base = {"ALLIANCE_VAR_DIR": str(VAR_DIR)}
    assert load_settings(base, use_dotenv=False).log_level == "INFO"
    assert load_settings({**base, "LOG_LEVEL": "warning"}, use_dotenv=False).log_level == "WARNING"
    with pytest.raises(ConfigurationError, match="LOG_LEVEL"):
        load_settings({**base, "LOG_LEVEL": "LOUD"}, use_dotenv=False)
