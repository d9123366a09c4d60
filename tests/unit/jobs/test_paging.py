"""Keyset pages of job runs: newest first, cursors refused when forged."""
import datetime as dt

import pytest

from alliance.db import connection
from alliance.errors import ValidationFailed
from alliance.jobs import queries, services
from alliance.paging import encode_cursor

SLOT = dt.datetime(2026, 11, 28, 3, 0)


def test_runs_pages_follow_the_cursor_to_the_end(database):
    with connection():
        ids = [services.claim("test.job", SLOT + dt.timedelta(hours=i), "a",
                              dt.timedelta(days=1)).run_id for i in range(3)]
        first, cursor = queries.runs_page("test.job", None, 2)
        second, end = queries.runs_page("test.job", cursor, 2)
    assert [r.id for r in first] == ids[:0:-1] and [r.id for r in second] == ids[:1]
    assert end is None


@pytest.mark.parametrize("cursor", ["nonsense!", "eDox", encode_cursor("7"), encode_cursor(True)])
def test_forged_cursor_is_a_validation_error(database, cursor):
    with pytest.raises(ValidationFailed) as caught:
        with connection():
            queries.runs_page("test.job", cursor, 10)
    assert caught.value.code == "VALIDATION_FAILED" and caught.value.details["field"] == "cursor"
