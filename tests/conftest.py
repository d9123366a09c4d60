import pytest

from alliance.db import db
from tests.support import use_fresh_database


@pytest.fixture
def database():
    """A fresh, migrated database bound to the domain (for service-level tests)."""
    url = use_fresh_database()
    yield url
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()
