# Generated from a schema diff on 2026-11-28 00:26.
from peewee import *
from alliance.db import UTCDateTimeField


class MediumBlobField(BlobField):
    """As alliance.referrals.models.MediumBlobField (kept here: a migration stays as written)."""

    field_type = "MEDIUMBLOB"


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class OaAutoReply(Model):
        match = CharField(max_length=16)
        keyword = CharField(max_length=64, default='')
        reply_text = TextField()
        enabled = BooleanField(default=True)
        priority = IntegerField(default=0)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'oa_auto_reply'
            indexes = ((('match', 'keyword'), True),)
    db.create_tables([OaAutoReply])

    class OaFollower(Model):
        openid = CharField(primary_key=True, max_length=64)
        unionid = CharField(index=True, null=True, max_length=64)
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        subscribed = BooleanField(default=True)
        first_scene = CharField(null=True, max_length=64)
        subscribed_at = UTCDateTimeField(null=True)
        unsubscribed_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'oa_follower'
    db.create_tables([OaFollower])

    class OaInboundMessage(Model):
        dedupe_key = CharField(primary_key=True, max_length=191)
        openid = CharField(index=True, max_length=64)
        kind = CharField(max_length=32)
        reply = TextField(null=True)
        created_at = UTCDateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'oa_inbound_message'
    db.create_tables([OaInboundMessage])

    class QrImage(Model):
        key = CharField(primary_key=True, max_length=191)
        kind = CharField(max_length=16)
        status = CharField(max_length=16, default='generating')
        content = MediumBlobField(null=True)
        meta = TextField(null=True)
        claimed_at = UTCDateTimeField()
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'qr_image'
    db.create_tables([QrImage])

    class ReferralAttribution(Model):
        invitee = ForeignKeyField(User, unique=True, on_delete='CASCADE')
        status = CharField(max_length=16)
        source_kind = CharField(null=True, max_length=16)
        referrer = ForeignKeyField(User, null=True, on_delete='SET NULL')
        merchant_id = IntegerField(index=True, null=True)
        code = CharField(null=True, max_length=16)
        channel = CharField(null=True, max_length=16)
        bound_at = UTCDateTimeField(null=True)
        expires_at = UTCDateTimeField(null=True)
        converted_at = UTCDateTimeField(null=True)
        first_order_ref = CharField(null=True, max_length=64)
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'referral_attribution'
            indexes = ((('referrer', 'id'), False),)
    db.create_tables([ReferralAttribution])

    class ReferralCode(Model):
        code = CharField(primary_key=True, max_length=16)
        owner_kind = CharField(max_length=16)
        owner_id = IntegerField()
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'referral_code'
            indexes = ((('owner_kind', 'owner_id'), True),)
    db.create_tables([ReferralCode])

    class ReferralReward(Model):
        invitee = ForeignKeyField(User, unique=True, on_delete='CASCADE')
        referrer = ForeignKeyField(User, on_delete='CASCADE')
        attribution = ForeignKeyField(ReferralAttribution, on_delete='CASCADE')
        order_ref = CharField(max_length=64)
        kind = CharField(max_length=16)
        points = IntegerField(default=0)
        credit_ref = CharField(null=True, max_length=64)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'referral_reward'
    db.create_tables([ReferralReward])

    migrator.migrate(migrator.add_column('outbox_message', 'channel', CharField(null=True, max_length=16)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('outbox_message', 'channel'))
    migrator.migrate(migrator.drop_table('referral_reward'))
    migrator.migrate(migrator.drop_table('referral_code'))
    migrator.migrate(migrator.drop_table('referral_attribution'))
    migrator.migrate(migrator.drop_table('qr_image'))
    migrator.migrate(migrator.drop_table('oa_inbound_message'))
    migrator.migrate(migrator.drop_table('oa_follower'))
    migrator.migrate(migrator.drop_table('oa_auto_reply'))
