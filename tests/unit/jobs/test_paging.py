"""Cursors: opaque, keyset, refused when forged."""
import pytest

from alliance.errors import ValidationFailed
from alliance.paging import decode_cursor, encode_cursor


def test_cursor_round_trips():
    assert decode_cursor(encode_cursor(12345)) == 12345


@pytest.mark.parametrize("cursor", ["", "nonsense!", encode_cursor(1)[:-1] + "@", "eDox"])
def test_forged_cursor_is_a_validation_error(cursor):
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(cursor)
    assert caught.value.code == "VALIDATION_FAILED" and caught.value.details["field"] == "cursor"
