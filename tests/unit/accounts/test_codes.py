"""Verification codes: expiry, wrong tries, burning, resending and the daily limits."""
import threading

import pytest

from alliance.accounts import codes
from alliance.accounts.codes import CodeLimits, consume_code, send_code
from alliance.accounts.models import LoginCode
from alliance.errors import RateLimited, UpstreamUnavailable
from alliance.infra.models import RateCounter
from tests.support import age_login_code

PHONE = "13800138000"


class Outbox:
    """Collects the codes handed over for delivery (the delivery port is tested elsewhere)."""

    def __init__(self):
        self.codes: list[str] = []

    def __call__(self, code: str) -> None:
        self.codes.append(code)

    @property
    def last(self) -> str:
        return self.codes[-1]


def send(outbox, target=PHONE, ip="10.0.0.1", limits=CodeLimits()):
    return send_code(codes.SMS, target, ip, outbox, limits)


def age(seconds: int, target: str = PHONE) -> None:
    age_login_code(target, seconds)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 6:06d}"


def test_send_then_consume_accepts_the_code_once(database):
    outbox = Outbox()
    sent = send(outbox)
    assert sent.expires_in == 300 and sent.resend_after == 60
    assert len(outbox.last) == 6 and outbox.last.isdigit()
    consume_code(codes.SMS, PHONE, outbox.last)
    with pytest.raises(codes.CodeInvalid):
        consume_code(codes.SMS, PHONE, outbox.last)


def test_consume_without_a_sent_code_is_invalid(database):
    with pytest.raises(codes.CodeInvalid):
        consume_code(codes.SMS, PHONE, "123456")


def test_code_is_not_valid_for_another_channel_or_address(database):
    outbox = Outbox()
    send(outbox)
    with pytest.raises(codes.CodeInvalid):
        consume_code(codes.SMS, "13900139000", outbox.last)
    with pytest.raises(codes.CodeInvalid):
        consume_code(codes.EMAIL, PHONE, outbox.last)


def test_expired_code_is_refused(database):
    outbox = Outbox()
    send(outbox)
    age(301)
    with pytest.raises(codes.CodeExpired) as caught:
        consume_code(codes.SMS, PHONE, outbox.last)
    assert caught.value.http_status == 400 and caught.value.code == "VERIFICATION_CODE_EXPIRED"


def test_code_still_valid_just_before_five_minutes(database):
    outbox = Outbox()
    send(outbox)
    age(295)
    consume_code(codes.SMS, PHONE, outbox.last)


def test_wrong_code_counts_the_tries_left(database):
    outbox = Outbox()
    send(outbox)
    with pytest.raises(codes.CodeInvalid) as caught:
        consume_code(codes.SMS, PHONE, wrong(outbox.last))
    assert caught.value.details["tries_left"] == 4
    consume_code(codes.SMS, PHONE, outbox.last)


def test_fifth_wrong_try_burns_the_code(database):
    outbox = Outbox()
    send(outbox)
    for left in (4, 3, 2, 1):
        with pytest.raises(codes.CodeInvalid) as caught:
            consume_code(codes.SMS, PHONE, wrong(outbox.last))
        assert caught.value.details["tries_left"] == left
    with pytest.raises(codes.CodeBurnt):
        consume_code(codes.SMS, PHONE, wrong(outbox.last))
    with pytest.raises(codes.CodeBurnt) as caught:
        consume_code(codes.SMS, PHONE, outbox.last)  # even the right code, now
    assert caught.value.code == "VERIFICATION_CODE_BURNT"


def test_concurrent_wrong_tries_cannot_exceed_the_budget(database):
    outbox = Outbox()
    send(outbox)
    barrier, outcomes = threading.Barrier(10), []

    def guess(n):
        barrier.wait()
        try:
            consume_code(codes.SMS, PHONE, f"{(int(outbox.last) + n) % 10 ** 6:06d}")
            outcomes.append("ok")
        except (codes.CodeInvalid, codes.CodeBurnt) as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(1, 11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "ok" not in outcomes
    assert LoginCode.get(LoginCode.target == PHONE).state == "burnt"
    with pytest.raises(codes.CodeBurnt):
        consume_code(codes.SMS, PHONE, outbox.last)


def test_resend_within_sixty_seconds_is_rate_limited(database):
    outbox = Outbox()
    send(outbox)
    age(30)
    with pytest.raises(RateLimited) as caught:
        send(outbox)
    assert caught.value.details["scope"] == "resend"
    assert 29 <= caught.value.retry_after <= 31
    assert len(outbox.codes) == 1


def test_resent_code_replaces_the_old_one(database):
    outbox = Outbox()
    send(outbox)
    first = outbox.last
    age(61)
    send(outbox)
    second = outbox.last
    if first != second:
        with pytest.raises(codes.CodeInvalid):
            consume_code(codes.SMS, PHONE, first)
    consume_code(codes.SMS, PHONE, second)


def test_resend_restores_the_tries_of_a_burnt_code(database):
    outbox = Outbox()
    send(outbox)
    for _ in range(5):
        with pytest.raises((codes.CodeInvalid, codes.CodeBurnt)):
            consume_code(codes.SMS, PHONE, wrong(outbox.last))
    age(61)
    send(outbox)
    consume_code(codes.SMS, PHONE, outbox.last)


def test_daily_limit_per_address(database):
    outbox, limits = Outbox(), CodeLimits(per_address_daily=3, per_ip_daily=100)
    for n in range(3):
        send(outbox, ip=f"10.0.0.{n}", limits=limits)
        age(61)
    with pytest.raises(RateLimited) as caught:
        send(outbox, ip="10.0.0.9", limits=limits)
    assert caught.value.details == {"scope": "address", "limit": 3, "period": "day",
                                    "retry_after": caught.value.retry_after}
    assert 0 < caught.value.retry_after <= 86400
    assert len(outbox.codes) == 3
    send(outbox, target="13900139000", limits=limits)  # another number is not affected


def test_daily_limit_per_ip(database):
    outbox, limits = Outbox(), CodeLimits(per_address_daily=100, per_ip_daily=2)
    send(outbox, target="13800000001", limits=limits)
    send(outbox, target="13800000002", limits=limits)
    with pytest.raises(RateLimited) as caught:
        send(outbox, target="13800000003", limits=limits)
    assert caught.value.details["scope"] == "ip"
    assert not LoginCode.select().where(LoginCode.target == "13800000003",
                                        LoginCode.state == "active").exists()
    send(outbox, target="13800000003", ip="10.9.9.9", limits=limits)


def test_daily_counters_keep_no_address_in_plain_text(database):
    send(Outbox())
    assert not RateCounter.select().where(RateCounter.bucket.contains(PHONE)).exists()


def test_failed_delivery_voids_the_code_and_allows_a_resend_at_once(database):
    captured = []

    def failing(code):
        captured.append(code)
        raise UpstreamUnavailable()

    with pytest.raises(UpstreamUnavailable):
        send(failing)
    with pytest.raises(codes.CodeInvalid):
        consume_code(codes.SMS, PHONE, captured[0])
    outbox = Outbox()
    send(outbox)
    consume_code(codes.SMS, PHONE, outbox.last)


def test_concurrent_sends_to_one_address_deliver_one_code(database):
    outbox, barrier, errors = Outbox(), threading.Barrier(6), []

    def request():
        barrier.wait()
        try:
            send(outbox)
        except RateLimited as exc:
            errors.append(exc.details["scope"])

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outbox.codes) == 1 and errors == ["resend"] * 5
