import pytest

from alliance.protect import FieldProtector

SECRET = "s" * 40


def test_encrypt_round_trips_and_hides_the_value():
    protector = FieldProtector(SECRET)
    token = protector.encrypt("11010519491231002X", "legal_rep_id")
    assert "11010519491231002X" not in token
    assert protector.decrypt(token, "legal_rep_id") == "11010519491231002X"
    assert protector.encrypt("11010519491231002X", "legal_rep_id") != token  # fresh nonce


def test_decrypt_with_another_key_or_context_fails():
    token = FieldProtector(SECRET).encrypt("value", "legal_rep_id")
    with pytest.raises(ValueError):
        FieldProtector("t" * 40).decrypt(token, "legal_rep_id")
    with pytest.raises(ValueError):
        FieldProtector(SECRET).decrypt(token, "phone")


def test_lookup_hash_is_stable_and_keyed():
    one, other = FieldProtector(SECRET), FieldProtector("t" * 40)
    assert one.lookup_hash("x", "c") == FieldProtector(SECRET).lookup_hash("x", "c")
    assert one.lookup_hash("x", "c") != other.lookup_hash("x", "c")
