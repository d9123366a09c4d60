"""Random codes: uniform over their alphabet, drawn with one read of the random source."""
import collections
import secrets

import pytest

from alliance.coupons.codes import COUPON_PREFIX, CROCKFORD, new_coupon_code
from alliance.merchants import invites
from alliance.orders.service_codes import SERVICE_PREFIX, new_service_code
from alliance.randomcodes import random_code
from alliance.redemptions.registry import CODE_ALPHABET
from alliance.referrals.scenes import CODE_ALPHABET as REFERRAL_ALPHABET, new_code


def test_a_code_reads_the_random_source_once(monkeypatch):
    # token_bytes is one os.urandom; secrets.choice read it once per character (and each
    # read is a system call that lets go of the GIL).
    reads = []
    real = secrets.token_bytes
    monkeypatch.setattr(secrets, "token_bytes", lambda n: reads.append(n) or real(n))
    monkeypatch.setattr(secrets, "choice", None)
    codes = [new_service_code(), new_coupon_code(), new_code()]
    assert reads == [11, 11, 8]
    assert codes[0][0] == SERVICE_PREFIX and set(codes[0][1:]) <= set(CODE_ALPHABET)
    assert codes[1][0] == COUPON_PREFIX and len(codes[1]) == 12
    assert set(codes[1][1:]) <= set(CROCKFORD)
    assert len(codes[2]) == 8 and set(codes[2]) <= set(REFERRAL_ALPHABET)


def test_every_character_of_the_alphabet_is_as_likely():
    counts = collections.Counter("".join(random_code(REFERRAL_ALPHABET, 8) for _ in range(8000)))
    assert set(counts) == set(REFERRAL_ALPHABET)
    expected = 8 * 8000 / 32  # 2,000 each; the bounds are ten standard deviations apart
    assert all(expected - 450 < n < expected + 450 for n in counts.values())


def test_an_alphabet_that_does_not_divide_256_draws_again_rather_than_favour_its_head(
        monkeypatch):
    # 256 % 3 == 1: byte 255 would make "A" likelier; it is refused and drawn again.
    draws = iter([bytes([255, 0, 1]), bytes([2])])
    with monkeypatch.context() as patched:
        patched.setattr(secrets, "token_bytes", lambda n: next(draws))
        assert random_code("ABC", 3) == "ABC"
    counts = collections.Counter(random_code("ABC", 30000))
    assert all(9_300 < n < 10_700 for n in counts.values())


def test_a_staff_invite_code_is_ten_characters_of_its_alphabet():
    code = random_code(invites._CODE_ALPHABET, 10)
    assert len(code) == 10 and set(code) <= set(invites._CODE_ALPHABET)


@pytest.mark.parametrize("alphabet", ["", "A", "x" * 257])
def test_an_alphabet_of_fewer_than_two_or_more_than_256_characters_is_refused(alphabet):
    with pytest.raises(ValueError):
        random_code(alphabet, 4)
