import datetime as dt

import pytest

from alliance.db import utcnow
from alliance.members.member_code import (MemberCodeExpired, MemberCodeInvalid, MemberCodeSigner,
                                          MemberCodeUsed)

SECRET = "s" * 40


def test_issued_code_is_consumed_once_for_its_user(database):
    signer = MemberCodeSigner(SECRET)
    code = signer.issue(42)
    assert (code.expires_at - utcnow()).total_seconds() <= 60
    assert signer.consume(code.payload) == 42
    with pytest.raises(MemberCodeUsed):
        signer.consume(code.payload)


def test_expired_code_is_rejected(database):
    signer = MemberCodeSigner(SECRET)
    code = signer.issue(42, now=utcnow() - dt.timedelta(seconds=61))
    with pytest.raises(MemberCodeExpired):
        signer.consume(code.payload)


def test_forged_signature_is_rejected(database):
    signer = MemberCodeSigner(SECRET)
    payload = signer.issue(42).payload
    parts = payload.split(".")
    parts[1] = "43"  # someone else's id under the first user's signature
    with pytest.raises(MemberCodeInvalid):
        signer.consume(".".join(parts))
    with pytest.raises(MemberCodeInvalid):
        MemberCodeSigner("t" * 40).consume(payload)


def test_garbage_is_rejected(database):
    with pytest.raises(MemberCodeInvalid):
        MemberCodeSigner(SECRET).consume("hello")
