"""Orders on an account merge or deletion."""
from alliance.db import transaction
from alliance.notifications.outbox import OutboxNotifier
from alliance.orders import checkout
from alliance.orders.accounts import erase_user_orders, move_user_orders
from alliance.orders.context import OrderContext
from alliance.orders.models import CartItem, Order
from tests.factories import make_item, make_merchant, make_user


def test_merge_moves_orders_and_merges_carts(database):
    octx = OrderContext(gateways={}, notifier=OutboxNotifier())
    source, target = make_user(), make_user()
    merchant = make_merchant()
    shared, only_source = make_item(merchant), make_item(merchant)
    order = checkout.create_order(octx, source.id, checkout.Basket(items=[(shared.id, 1)]))
    CartItem.create(user=source, item=shared, quantity=5)
    CartItem.create(user=target, item=shared, quantity=2)
    CartItem.create(user=source, item=only_source, quantity=1)
    with transaction():
        assert move_user_orders(source.id, target.id) == 3
    assert Order.get_by_id(order.id).user_id == target.id
    carts = {(c.user_id, c.item_id): c.quantity for c in CartItem.select()}
    assert carts == {(target.id, shared.id): 5, (target.id, only_source.id): 1}


def test_erase_keeps_orders_without_the_contact(database):
    octx = OrderContext(gateways={}, notifier=OutboxNotifier())
    buyer = make_user()
    item = make_item(make_merchant())
    order = checkout.create_order(octx, buyer.id, checkout.Basket(items=[(item.id, 1)]),
                                  contact={"name": "张三", "phone": "13800000000", "address": "上海"})
    with transaction():
        assert erase_user_orders(buyer.id) == 1
    kept = Order.get_by_id(order.id)
    assert (kept.contact_name, kept.contact_phone, kept.address, kept.payable_fen) == (
        "", "", "", order.payable_fen)
