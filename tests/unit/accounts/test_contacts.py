import pytest

from alliance.accounts.contacts import (EmailInvalid, PhoneInvalid, mask_email, mask_phone,
                                        normalize_email, normalize_phone)


@pytest.mark.parametrize("raw", ["13800138000", "+8613800138000", "008613800138000",
                                 "138 0013 8000", "138-0013-8000", "+86 138-0013-8000"])
def test_mainland_mobile_forms_normalise_to_eleven_digits(raw):
    assert normalize_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "+1 4155552671",
                                 "23800138000", "1380013800a", "", None, 13800138000])
def test_non_mainland_or_malformed_numbers_are_refused(raw):
    with pytest.raises(PhoneInvalid) as caught:
        normalize_phone(raw)
    assert caught.value.http_status == 400 and caught.value.code == "PHONE_INVALID"
    assert caught.value.details["field"] == "phone"


def test_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Alice.Wang@Example.COM ") == "alice.wang@example.com"


@pytest.mark.parametrize("raw", ["alice", "alice@", "@example.com", "a b@example.com",
                                 "alice@example", "a@-bad.com", "x" * 190 + "@example.com", 5])
def test_malformed_email_is_refused(raw):
    with pytest.raises(EmailInvalid) as caught:
        normalize_email(raw)
    assert caught.value.http_status == 400 and caught.value.code == "EMAIL_INVALID"


def test_masks_hide_the_middle():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_phone(None) is None and mask_email(None) is None
