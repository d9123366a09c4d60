# Generated from a schema diff on 2026-11-28 02:59; the existing shops' bands filled by hand.
import math
from collections import defaultdict

from peewee import *


def _fill_lat_bands(db):
    """Every shop's ``lat_band``: floor(lat * 100), as ``geo.lat_band`` computes it then."""
    class Shop(Model):
        lat = DoubleField()
        lat_band = IntegerField(null=True)
        class Meta:
            database = db
            table_name = 'shop'

    ids_by_band = defaultdict(list)
    for shop_id, lat in Shop.select(Shop.id, Shop.lat).tuples():
        ids_by_band[math.floor(lat * 100)].append(shop_id)
    for band, ids in ids_by_band.items():
        for chunk in chunked(ids, 1000):
            Shop.update(lat_band=band).where(Shop.id.in_(chunk)).execute()


def up(migrator, db):
    migrator.migrate(migrator.drop_index('shop', 'shop_listed_lat_lng'))
    migrator.migrate(migrator.add_column('shop', 'lat_band', IntegerField(null=True)))
    _fill_lat_bands(db)
    migrator.migrate(migrator.add_not_null('shop', 'lat_band'))
    migrator.migrate(migrator.add_index('shop', ('listed', 'lat_band', 'lng', 'lat', 'merchant_id')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('shop', 'shop_listed_lat_band_lng_lat_merchant_id'))
    migrator.migrate(migrator.drop_column('shop', 'lat_band'))
    migrator.migrate(migrator.add_index('shop', ('listed', 'lat', 'lng')))
