"""Every event the backend emits renders through the sandbox templates of both channels."""
import pytest

from alliance.notifications.templates import (EVENTS, SANDBOX_OA_TEMPLATES,
                                              SANDBOX_SUBSCRIBE_TEMPLATES, RenderError,
                                              TemplateBook)

BOOK = TemplateBook(SANDBOX_SUBSCRIBE_TEMPLATES, SANDBOX_OA_TEMPLATES)
# The data each emitter sends (alliance/catalog/review.py, alliance/pushes, coupons reminders).
ITEM = {"item_id": 7, "item_name": "招牌牛肉面", "merchant_id": 3}
PUSH = {"push_id": 1, "merchant_id": 3, "merchant_name": "老街面馆", "title": "周末会员日",
        "content": "本周六周日全场八折，会员再送卤蛋一份，欢迎新老顾客光临", "page": "pages/merchant/detail?id=3"}


def test_every_event_has_a_sandbox_template_on_the_subscribe_channel():
    assert set(EVENTS) <= set(SANDBOX_SUBSCRIBE_TEMPLATES)


@pytest.mark.parametrize("channel", ["subscribe", "oa"])
def test_render_item_approved_names_the_item(channel):
    rendered = BOOK.render(channel, "catalog.item_approved", ITEM)
    assert "招牌牛肉面" in rendered.data.values()
    assert rendered.page == "pages/merchant/catalog"


@pytest.mark.parametrize("event", ["catalog.item_rejected", "catalog.item_taken_down"])
def test_render_item_decision_carries_the_reason(event):
    for channel in ("subscribe", "oa"):
        rendered = BOOK.render(channel, event, {**ITEM, "reason": "图片不清晰"})
        assert "图片不清晰" in rendered.data.values()


def test_render_item_rejected_without_reason_fails():
    with pytest.raises(RenderError):
        BOOK.render("subscribe", "catalog.item_rejected", ITEM)


def test_render_merchant_push_cuts_values_to_wechat_limits():
    rendered = BOOK.render("subscribe", "merchant.push", PUSH)
    assert rendered.template_id == "sandbox-subscribe-merchant-push"
    assert rendered.page == "pages/merchant/detail?id=3"
    assert rendered.data["thing2"] == "周末会员日"
    assert len(rendered.data["thing3"]) == 20 and rendered.data["thing3"].endswith("…")
    oa = BOOK.render("oa", "merchant.push", PUSH)
    assert oa.data["keyword2"] == PUSH["content"]


def test_render_coupon_expiring_shows_local_time():
    rendered = BOOK.render("subscribe", "coupon.expiring", {
        "coupon_name": "满100减20", "merchant_name": "老街面馆",
        "valid_until": "2026-11-28T15:59:59+00:00"})
    assert rendered.data["time3"] == "2026-11-28 23:59"
