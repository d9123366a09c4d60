import threading

import pytest

from alliance.catalog.models import CatalogItem
from alliance.catalog.stock import OutOfStock, return_stock, take_stock
from alliance.db import transaction
from alliance.merchants.aggregates import record_sale
from alliance.merchants.models import Merchant
from tests.factories import make_item, make_merchant


def test_take_stock_never_oversells_under_concurrency(database):
    with transaction():
        item = make_item(make_merchant(), stock=5)
    outcomes = []

    def buy():
        try:
            with transaction():
                take_stock(item.id, 1)
            outcomes.append("ok")
        except OutOfStock:
            outcomes.append("sold out")

    threads = [threading.Thread(target=buy) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 5 and outcomes.count("sold out") == 7
    stored = CatalogItem.get_by_id(item.id)
    assert stored.stock == 0 and stored.sales_count == 5


def test_take_stock_of_an_item_off_the_shelf_fails(database):
    item = make_item(make_merchant(), stock=5, status="off_shelf")
    with pytest.raises(OutOfStock) as error:
        take_stock(item.id, 1)
    assert error.value.code == "OUT_OF_STOCK" and error.value.http_status == 409


def test_return_stock_puts_units_back(database):
    item = make_item(make_merchant(), stock=3)
    take_stock(item.id, 2)
    return_stock(item.id, 2)
    stored = CatalogItem.get_by_id(item.id)
    assert stored.stock == 3 and stored.sales_count == 0


def test_record_sale_feeds_ranking_and_popularity(database):
    merchant = make_merchant(popularity=10)
    record_sale(merchant.id, 2500, 2)
    stored = Merchant.get_by_id(merchant.id)
    assert (stored.sales_count, stored.sales_fen, stored.popularity) == (2, 2500, 12)
