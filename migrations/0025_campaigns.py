# Generated from a schema diff on 2026-12-07 16:16.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Campaign(Model):
        kind = CharField(max_length=16)
        merchant_id = IntegerField(null=True)
        name = CharField(max_length=64)
        description = CharField(max_length=500, default='')
        starts_at = UTCDateTimeField()
        ends_at = UTCDateTimeField()
        per_user_limit = IntegerField(null=True)
        tiers = TextField(default='[]')
        budget_fen = BigIntegerField(null=True)
        join_requires_approval = BooleanField(default=True)
        status = CharField(max_length=16, default='pending')
        reason = CharField(max_length=200, default='')
        created_by_kind = CharField(max_length=8)
        created_by = IntegerField()
        reviewed_by = IntegerField(null=True)
        reviewed_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'campaign'
            indexes = ((('status', 'ends_at'), False), (('merchant_id', 'id'), False))
    db.create_tables([Campaign])

    class CampaignParticipant(Model):
        campaign = ForeignKeyField(Campaign, on_delete='CASCADE')
        merchant_id = IntegerField(index=True)
        status = CharField(max_length=16, default='pending')
        reason = CharField(max_length=200, default='')
        created_at = UTCDateTimeField()
        reviewed_by = IntegerField(null=True)
        reviewed_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'campaign_participant'
            indexes = ((('campaign', 'merchant_id'), True), (('status', 'id'), False))
    db.create_tables([CampaignParticipant])

    class CampaignItem(Model):
        campaign = ForeignKeyField(Campaign, on_delete='CASCADE')
        participant = ForeignKeyField(CampaignParticipant, on_delete='CASCADE')
        merchant_id = IntegerField()
        item_id = IntegerField(index=True)
        campaign_price_fen = IntegerField()
        stock_total = IntegerField(null=True)
        stock_left = IntegerField(null=True)
        sold = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'campaign_item'
            indexes = ((('campaign', 'item_id'), True),)
    db.create_tables([CampaignItem])

    class CampaignQuota(Model):
        campaign_item = ForeignKeyField(CampaignItem, on_delete='CASCADE')
        user_id = IntegerField()
        units = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'campaign_quota'
            indexes = ((('campaign_item', 'user_id'), True), (('user_id',), False))
    db.create_tables([CampaignQuota])

    class CampaignUse(Model):
        campaign = ForeignKeyField(Campaign, on_delete='CASCADE')
        order_id = IntegerField(index=True)
        user_id = IntegerField(index=True)
        merchant_id = IntegerField()
        funder_merchant_id = IntegerField(null=True)
        campaign_item_id = IntegerField(null=True)
        item_id = IntegerField(null=True)
        units = IntegerField(default=0)
        unit_price_fen = IntegerField(null=True)
        amount_fen = BigIntegerField()
        discount_fen = BigIntegerField()
        released_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'campaign_use'
            indexes = ((('campaign', 'order_id'), False),)
    db.create_tables([CampaignUse])

    migrator.migrate(migrator.add_column('orders', 'campaign_discount_fen', BigIntegerField(default=0)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('orders', 'campaign_discount_fen'))
    migrator.migrate(migrator.drop_table('campaign_use'))
    migrator.migrate(migrator.drop_table('campaign_quota'))
    migrator.migrate(migrator.drop_table('campaign_item'))
    migrator.migrate(migrator.drop_table('campaign_participant'))
    migrator.migrate(migrator.drop_table('campaign'))
