# Generated from a schema diff on 2026-12-07 19:05.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Campaign(Model):
        class Meta:
            database = db
            table_name = 'campaign'

    class CampaignItem(Model):
        class Meta:
            database = db
            table_name = 'campaign_item'

    class CampaignGroup(Model):
        campaign = ForeignKeyField(Campaign, on_delete='CASCADE')
        campaign_item = ForeignKeyField(CampaignItem, on_delete='CASCADE')
        merchant_id = IntegerField()
        item_id = IntegerField()
        leader_user_id = IntegerField(index=True)
        group_size = IntegerField()
        seats_taken = IntegerField(default=0)
        paid_count = IntegerField(default=0)
        status = CharField(max_length=16, default='open')
        deadline = UTCDateTimeField()
        created_at = UTCDateTimeField()
        succeeded_at = UTCDateTimeField(null=True)
        failed_at = UTCDateTimeField(null=True)
        settled_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'campaign_group'
            indexes = ((('campaign', 'item_id', 'status', 'id'), False), (('status', 'deadline'), False), (('merchant_id', 'id'), False))
    db.create_tables([CampaignGroup])

    class CampaignGroupMember(Model):
        group = ForeignKeyField(CampaignGroup, on_delete='CASCADE')
        user_id = IntegerField(index=True)
        order_id = IntegerField(unique=True)
        status = CharField(max_length=16, default='held')
        joined_at = UTCDateTimeField()
        paid_at = UTCDateTimeField(null=True)
        released_at = UTCDateTimeField(null=True)
        settled_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'campaign_group_member'
            indexes = ((('group', 'user_id'), True),)
    db.create_tables([CampaignGroupMember])

    migrator.migrate(migrator.add_column('campaign', 'group_size', IntegerField(null=True)))
    migrator.migrate(migrator.add_column('campaign', 'group_hours', IntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('campaign', 'group_hours'))
    migrator.migrate(migrator.drop_column('campaign', 'group_size'))
    migrator.migrate(migrator.drop_table('campaign_group_member'))
    migrator.migrate(migrator.drop_table('campaign_group'))
