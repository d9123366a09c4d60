# Generated from a schema diff on 2026-11-28 00:34.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Merchant(Model):
        name = CharField(max_length=64)
        company_name = CharField(max_length=128)
        credit_code = CharField(unique=True, max_length=18)
        industry = CharField(max_length=32)
        intro = TextField(default='')
        legal_rep_name = CharField(max_length=64)
        legal_rep_id_cipher = CharField()
        legal_rep_id_hash = CharField(index=True, max_length=64)
        legal_rep_id_masked = CharField(max_length=32)
        licence_upload = CharField(max_length=32)
        id_front_upload = CharField(max_length=32)
        id_back_upload = CharField(max_length=32)
        contact_phone = CharField(max_length=20)
        owner = ForeignKeyField(User, on_delete='RESTRICT')
        status = CharField(max_length=16, default='pending')
        status_reason = CharField(max_length=500, default='')
        rating_sum = IntegerField(default=0)
        rating_count = IntegerField(default=0)
        popularity = IntegerField(default=0)
        sales_count = IntegerField(default=0)
        sales_fen = BigIntegerField(default=0)
        submitted_at = UTCDateTimeField()
        reviewed_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'merchant'
            indexes = ((('status', 'popularity', 'id'), False), (('status', 'industry', 'popularity', 'id'), False), (('status', 'sales_fen'), False))
    db.create_tables([Merchant])

    class CatalogItem(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        kind = CharField(max_length=16)
        name = CharField(max_length=64)
        category = CharField(max_length=32, default='')
        price_fen = IntegerField()
        original_price_fen = IntegerField(null=True)
        images = TextField(default='[]')
        description = TextField(default='')
        stock = IntegerField(default=0)
        sales_count = IntegerField(default=0)
        status = CharField(max_length=16, default='draft')
        review_pending = BooleanField(default=False)
        pending_changes = TextField(null=True)
        review_note = CharField(max_length=500, default='')
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'catalog_item'
            indexes = ((('merchant', 'status', 'id'), False), (('merchant', 'status', 'price_fen', 'id'), False), (('merchant', 'status', 'sales_count', 'id'), False), (('review_pending', 'updated_at'), False))
    db.create_tables([CatalogItem])

    class MerchantStatusChange(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        from_status = CharField(null=True, max_length=16)
        to_status = CharField(max_length=16)
        actor_kind = CharField(max_length=16)
        actor_id = IntegerField(null=True)
        reason = CharField(max_length=500, default='')
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'merchant_status_change'
    db.create_tables([MerchantStatusChange])

    class Shop(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        name = CharField(max_length=64)
        logo_upload = CharField(null=True, max_length=32)
        intro = TextField(default='')
        address = CharField()
        lat = DoubleField()
        lng = DoubleField()
        phone = CharField(max_length=20, default='')
        opening_hours = TextField(default='{}')
        photos = TextField(default='[]')
        status = CharField(max_length=16, default='open')
        listed = BooleanField(default=False)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'shop'
            indexes = ((('listed', 'lat', 'lng'), False),)
    db.create_tables([Shop])

    class StaffInvite(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        role = CharField(max_length=32)
        code = CharField(unique=True, max_length=32)
        created_by = ForeignKeyField(User, on_delete='CASCADE')
        expires_at = UTCDateTimeField()
        accepted_by = IntegerField(null=True)
        accepted_at = UTCDateTimeField(null=True)
        revoked_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'staff_invite'
    db.create_tables([StaffInvite])

    class StaffMembership(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='CASCADE')
        role = CharField(max_length=32)
        status = CharField(max_length=16, default='active')
        invited_by = IntegerField(null=True)
        created_at = UTCDateTimeField()
        removed_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'staff_membership'
            indexes = ((('merchant', 'user'), True),)
    db.create_tables([StaffMembership])

    class Upload(Model):
        id = CharField(primary_key=True, max_length=32)
        owner = ForeignKeyField(User, on_delete='CASCADE')
        purpose = CharField(max_length=16)
        storage_key = CharField(max_length=128)
        content_type = CharField(max_length=32)
        size_bytes = IntegerField()
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'upload'
    db.create_tables([Upload])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('upload'))
    migrator.migrate(migrator.drop_table('staff_membership'))
    migrator.migrate(migrator.drop_table('staff_invite'))
    migrator.migrate(migrator.drop_table('shop'))
    migrator.migrate(migrator.drop_table('merchant_status_change'))
    migrator.migrate(migrator.drop_table('catalog_item'))
    migrator.migrate(migrator.drop_table('merchant'))
