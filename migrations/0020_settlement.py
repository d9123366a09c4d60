# Generated from a schema diff on 2026-12-07 15:45.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class SettlementStatement(Model):
        merchant_id = IntegerField()
        period = CharField(max_length=7)
        period_start = UTCDateTimeField()
        period_end = UTCDateTimeField()
        status = CharField(max_length=16, default='issued')
        net_fen = BigIntegerField(default=0)
        item_count = IntegerField(default=0)
        issued_at = UTCDateTimeField()
        payout_reference = CharField(null=True, max_length=64)
        paid_at = UTCDateTimeField(null=True)
        paid_by = IntegerField(null=True)
        class Meta:
            database = db
            table_name = 'settlement_statement'
            indexes = ((('merchant_id', 'period'), True), (('period', 'id'), False), (('status', 'id'), False))
    db.create_tables([SettlementStatement])

    class SettlementItem(Model):
        statement = ForeignKeyField(SettlementStatement, on_delete='CASCADE')
        merchant_id = IntegerField()
        source_type = CharField(max_length=32)
        source_id = CharField(max_length=64)
        line = CharField(max_length=32)
        amount_fen = BigIntegerField()
        basis_fen = BigIntegerField(default=0)
        rate_bp = IntegerField(null=True)
        counterparty_merchant_id = IntegerField(null=True)
        order_no = CharField(null=True, max_length=32)
        occurred_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'settlement_item'
            indexes = ((('source_type', 'source_id', 'merchant_id'), True), (('statement', 'id'), False))
    db.create_tables([SettlementItem])

    class SettlementLine(Model):
        statement = ForeignKeyField(SettlementStatement, on_delete='CASCADE')
        line = CharField(max_length=32)
        amount_fen = BigIntegerField()
        item_count = IntegerField()
        class Meta:
            database = db
            table_name = 'settlement_line'
            indexes = ((('statement', 'line'), True),)
    db.create_tables([SettlementLine])

    migrator.migrate(migrator.add_column('merchant', 'commission_bp', IntegerField(null=True)))
    migrator.migrate(migrator.add_index('commission_entry', ('created_at',)))
    migrator.migrate(migrator.add_index('refund', ('status', 'finished_at')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('refund', 'refund_status_finished_at'))
    migrator.migrate(migrator.drop_index('commission_entry', 'commission_entry_created_at'))
    migrator.migrate(migrator.drop_column('merchant', 'commission_bp'))
    migrator.migrate(migrator.drop_table('settlement_line'))
    migrator.migrate(migrator.drop_table('settlement_item'))
    migrator.migrate(migrator.drop_table('settlement_statement'))
