"""How SQLite answers a payment's one read (SQLite plans by the indexes' shape alone: no
statistics), so that an index change cannot quietly make every payment read a whole table."""
import pytest

from alliance.db import connection, db
from alliance.orders import payments
from tests.support import MYSQL_URL


@pytest.mark.skipif(bool(MYSQL_URL), reason="SQLite's planner (MariaDB plans by statistics)")
def test_a_payments_read_looks_every_row_up_by_its_keys(database):
    # Without payment_attempt's index on order_id, SQLite counted the order's other open
    # trades through (status, created_at): every open trade of the platform, for every
    # payment (notify on SQLite, 1 process: 1,052 -> 688 req/s).
    sql, params = payments._trade_with_order().sql()
    with connection():
        plan = [row[3] for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}",
                                                 [None] * len(params))]
    assert not [step for step in plan if step.startswith("SCAN")], plan
    searches = {step.split()[1]: step for step in plan if step.startswith("SEARCH")}
    assert "(out_trade_no=?)" in searches["t1"], plan
    assert "(order_id=?)" in searches["other"], plan
    assert "(order_id=?)" in searches["t4"], plan
