"""The QR cache: WeChat is asked once per scene, even by concurrent requests."""
import threading
import time

import pytest

from alliance.accounts.models import User
from alliance.db import connection
from alliance.errors import UpstreamUnavailable
from alliance.ports import OaQrCode
from alliance.referrals import images, qrcodes
from alliance.referrals.models import QrImage
from tests.factories import make_merchant, make_user
from tests.qr import decode_png


class CountingProvider:
    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.calls, self.delay, self.fail = [], delay, fail
        self.lock = threading.Lock()

    def miniprogram_code(self, scene, page=None):
        with self.lock:
            self.calls.append(scene)
        time.sleep(self.delay)
        if self.fail:
            raise UpstreamUnavailable()
        return images.qr_png(scene)

    def oa_qrcode(self, scene, expire_seconds=None):
        with self.lock:
            self.calls.append(scene)
        return OaQrCode(ticket="t-" + scene, url=f"http://weixin.qq.com/q/{scene}",
                        expire_seconds=None)


def test_concurrent_requests_for_one_scene_ask_wechat_once(database):
    user_id = User.create(nickname="a").id
    provider = CountingProvider(delay=0.3)
    results, barrier = [], threading.Barrier(3)

    def fetch():
        barrier.wait()
        with connection():
            results.append(qrcodes.referral_qrcode(provider, user_id, "png", "https://x.cn"))

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(provider.calls) == 1 and len(results) == 3
    assert {r.content for r in results} == {results[0].content}
    assert decode_png(results[0].content) == [results[0].scene]


def test_failed_request_leaves_no_claim_and_the_next_one_asks_again(database):
    user_id = User.create(nickname="a").id
    with pytest.raises(UpstreamUnavailable):
        qrcodes.referral_qrcode(CountingProvider(fail=True), user_id, "png", "https://x.cn")
    assert QrImage.select().count() == 0
    provider = CountingProvider()
    assert qrcodes.referral_qrcode(provider, user_id, "png", "https://x.cn").content
    assert len(provider.calls) == 1


def test_claim_of_a_dead_maker_is_taken_over(database):
    import datetime as dt

    from alliance.db import utcnow

    QrImage.create(key="wxacode:r.X", kind="wxacode", status="generating",
                   claimed_at=utcnow() - dt.timedelta(minutes=5))
    row = qrcodes.cached("wxacode:r.X", "wxacode", lambda: (b"png", None))
    assert row.status == "ready" and bytes(row.content) == b"png"


def test_poster_is_redrawn_for_a_new_shop_name_without_a_new_ticket(database):
    provider = CountingProvider()
    merchant = make_merchant(owner=make_user("店主"))
    first = qrcodes.counter_poster(provider, merchant.id, "面馆")
    second = qrcodes.counter_poster(provider, merchant.id, "面馆（新店名）")
    assert first.content != second.content and len(provider.calls) == 1
    assert decode_png(second.content) == [f"http://weixin.qq.com/q/{first.scene}"]


def test_poster_font_has_chinese_glyphs():
    # .ci/run installs fonts-wqy-microhei; without a CJK font posters lose their Chinese.
    assert images.cjk_font_path() is not None
