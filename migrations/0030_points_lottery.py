# Generated from a schema diff on 2026-12-07 22:09.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Lottery(Model):
        title = CharField(max_length=64)
        description = CharField(max_length=500, default='')
        points_cost = IntegerField()
        starts_at = UTCDateTimeField()
        ends_at = UTCDateTimeField()
        daily_limit = IntegerField(null=True)
        total_limit = IntegerField(null=True)
        status = CharField(max_length=16, default='draft')
        created_by = IntegerField()
        activated_at = UTCDateTimeField(null=True)
        ended_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'lottery'
            indexes = ((('status', 'id'), False),)
    db.create_tables([Lottery])

    class LotteryDraw(Model):
        lottery_id = IntegerField()
        user_id = IntegerField()
        request_key = CharField(max_length=128)
        picked_prize_id = IntegerField(null=True)
        prize_id = IntegerField(null=True)
        prize_kind = CharField(max_length=16, default='')
        prize_name = CharField(max_length=64, default='')
        points_cost = IntegerField()
        points_awarded = IntegerField(default=0)
        coupon_id = IntegerField(null=True)
        spend_entry_id = IntegerField(null=True)
        award_entry_id = IntegerField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'lottery_draw'
            indexes = ((('user_id', 'request_key'), True), (('user_id', 'id'), False), (('lottery_id', 'prize_id'), False), (('lottery_id', 'id'), False))
    db.create_tables([LotteryDraw])

    class LotteryEntrant(Model):
        lottery_id = IntegerField()
        user_id = IntegerField(index=True)
        draws = IntegerField(default=0)
        day = DateField(null=True)
        day_draws = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'lottery_entrant'
            indexes = ((('lottery_id', 'user_id'), True),)
    db.create_tables([LotteryEntrant])

    class LotteryPrize(Model):
        lottery = ForeignKeyField(Lottery, on_delete='CASCADE')
        position = IntegerField()
        kind = CharField(max_length=16)
        name = CharField(max_length=64)
        coupon_template_id = IntegerField(null=True)
        points = IntegerField(null=True)
        weight = IntegerField()
        stock_total = IntegerField(null=True)
        stock_left = IntegerField(null=True)
        class Meta:
            database = db
            table_name = 'lottery_prize'
            indexes = ((('lottery', 'position'), True),)
    db.create_tables([LotteryPrize])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('lottery_prize'))
    migrator.migrate(migrator.drop_table('lottery_entrant'))
    migrator.migrate(migrator.drop_table('lottery_draw'))
    migrator.migrate(migrator.drop_table('lottery'))
