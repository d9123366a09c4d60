# Generated from a schema diff on 2026-12-07 22:29.
from peewee import *

def up(migrator, db):
    migrator.migrate(migrator.add_index('catalog_item', ('status', 'id')))
    migrator.migrate(migrator.add_index('catalog_item', ('status', 'price_fen', 'id')))
    migrator.migrate(migrator.add_index('catalog_item', ('status', 'sales_count', 'id')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('catalog_item', 'catalog_item_status_sales_count_id'))
    migrator.migrate(migrator.drop_index('catalog_item', 'catalog_item_status_price_fen_id'))
    migrator.migrate(migrator.drop_index('catalog_item', 'catalog_item_status_id'))
