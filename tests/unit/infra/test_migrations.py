from alliance.migrate import migrate, pending_diff


def test_migrated_schema_matches_the_models(database):
    assert not pending_diff(), "models changed without a migration: python -m server makemigration NAME"


def test_migrate_twice_applies_nothing(database):
    assert migrate() == []


def test_shop_lat_band_migration_fills_the_existing_shops(tmp_path):
    from alliance.db import connection, init_db
    from alliance.merchants.geo import lat_band
    from alliance.merchants.models import Shop
    from tests.factories import make_merchant

    init_db(f"sqlite:///{tmp_path / 'before-bands.sqlite3'}")
    with connection():
        migrate(target="0014_rollups")
        merchant = make_merchant()
        # Shop.insert leaves out lat_band (no default), as rows written before it existed.
        lats = {Shop.insert(merchant=merchant, name="旧门店", address="上海", lat=lat,
                            lng=121.47).execute(): lat
                for lat in (31.2304, 31.2299999, -0.005, 0.0, 89.999999, -90.0)}
        migrate()
        bands = dict(Shop.select(Shop.id, Shop.lat_band).tuples())
    assert bands == {shop_id: lat_band(lat) for shop_id, lat in lats.items()}
    assert sorted(bands.values()) == [-9000, -1, 0, 3122, 3123, 8999]


def test_coupon_center_migration_fills_the_existing_templates(tmp_path):
    from alliance.coupons.models import CouponTemplate
    from alliance.db import connection, init_db

    init_db(f"sqlite:///{tmp_path / 'before-centers.sqlite3'}")
    with connection():
        migrate(target="0018_coupon_template_status")
        ids = {CouponTemplate.insert(name="旧券", kind="fixed", total_stock=1, channels=channels,
                                     created_by_kind="operator", created_by=1)
               .execute(): channels
               for channels in ("own", "own,partner", "platform", "points")}
        migrate()
        centers = dict(CouponTemplate.select(CouponTemplate.id, CouponTemplate.center).tuples())
    assert {ids[i]: center for i, center in centers.items()} == {
        "own": None, "own,partner": None, "platform": "platform", "points": "points"}


def test_coupon_commission_migration_keeps_what_distributions_owe_now(tmp_path):
    from alliance.coupons.models import Coupon, CouponDistribution
    from alliance.coupons.templates import add_distribution
    from alliance.db import connection, db, init_db
    from tests.factories import make_merchant, make_template

    init_db(f"sqlite:///{tmp_path / 'before-commissions.sqlite3'}")
    with connection():
        migrate(target="0022_coupon_template_center")
        issuer, partner = make_merchant(), make_merchant()
        template = make_template(issuer, channels=["own", "partner"])
        distribution = add_distribution(template.id, issuer.id, partner.id, 300, actor_id=1)
        # Coupons as claims wrote them before the column (one handed out by the partner).
        for seq, handed_out in ((1, distribution.id), (2, None)):
            db.execute_sql(
                "INSERT INTO coupon (template_id, user_id, seq, code, status, valid_from, "
                "valid_until, channel, distribution_id, scene, claimed_at) VALUES "
                "(?, 1, ?, ?, 'active', '2026-01-01', '2027-01-01', 'own', ?, '', '2026-01-01')",
                (template.id, seq, f"C{seq:010d}", handed_out))
        migrate()
        owed = dict(Coupon.select(Coupon.seq, Coupon.commission_fen).tuples())
        assert CouponDistribution.get_by_id(distribution.id).commission_fen == 300
    assert owed == {1: 300, 2: 0}
