from alliance.db import transaction
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier


def test_notify_is_recorded_with_the_transaction(database):
    with transaction():
        OutboxNotifier().notify("order.paid", user_id=1, data={"order_no": "A1"}, dedupe_key="k1")
    assert OutboxMessage.select().where(OutboxMessage.status == "pending").count() == 1


def test_notify_twice_for_one_event_records_once(database):
    with transaction():
        OutboxNotifier().notify("order.paid", user_id=1, data={}, dedupe_key="k1")
        OutboxNotifier().notify("order.paid", user_id=1, data={}, dedupe_key="k1")
    assert OutboxMessage.select().count() == 1


def test_notify_is_rolled_back_with_its_transaction(database):
    try:
        with transaction():
            OutboxNotifier().notify("order.paid", user_id=1, data={})
            raise RuntimeError("business change failed")
    except RuntimeError:
        pass
    assert OutboxMessage.select().count() == 0
