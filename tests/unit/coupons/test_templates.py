import pytest

from alliance.accounts.models import OperatorAuditLog
from alliance.accounts.operators import create_operator
from alliance.coupons import claims
from alliance.coupons.errors import CouponTemplateEnded, CouponTemplateNotFound
from alliance.coupons.models import CouponDistribution
from alliance.coupons.queries import used_counts
from alliance.coupons.templates import (add_distribution, create_platform_template,
                                        end_distribution, update_template)
from alliance.db import db
from alliance.errors import ValidationFailed
from tests.factories import make_item, make_merchant, make_template, make_user
from tests.support import MYSQL_URL, recorded_sql


def _field_of(error) -> str:
    return error.value.details.get("field")


def test_fixed_discount_above_its_threshold_is_refused(database):
    with pytest.raises(ValidationFailed) as error:
        make_template(make_merchant(), threshold_fen=1000, discount_fen=2000)
    assert _field_of(error) == "discount_fen"


def test_validity_needs_exactly_one_of_dates_or_days(database):
    merchant = make_merchant()
    with pytest.raises(ValidationFailed) as error:
        make_template(merchant, valid_from="2030-01-01T00:00:00+08:00",
                      valid_until="2030-02-01T00:00:00+08:00")
    assert _field_of(error) == "valid_days"
    with pytest.raises(ValidationFailed) as error:
        make_template(merchant, valid_days=None)
    assert _field_of(error) == "valid_days"
    dated = make_template(merchant, valid_days=None, valid_from="2030-01-01T00:00:00+08:00",
                          valid_until="2030-02-01T00:00:00+08:00")
    assert dated.valid_until.isoformat() == "2030-01-31T16:00:00"


def test_percent_coupon_needs_a_cap(database):
    with pytest.raises(ValidationFailed) as error:
        make_template(make_merchant(), kind="percent", percent_off=20)
    assert _field_of(error) == "max_discount_fen"


def test_items_scope_lists_only_the_issuers_items(database):
    merchant, other = make_merchant(), make_merchant()
    mine, theirs = make_item(merchant), make_item(other)
    with pytest.raises(ValidationFailed) as error:
        make_template(merchant, scope="items", scope_item_ids=[mine.id, theirs.id])
    assert _field_of(error) == "scope_item_ids"
    assert make_template(merchant, scope="items", scope_item_ids=[mine.id]).item_ids == [mine.id]


def test_service_voucher_names_a_service_of_the_issuer(database):
    merchant = make_merchant()
    goods, service = make_item(merchant, kind="goods"), make_item(merchant, kind="service")
    with pytest.raises(ValidationFailed):
        make_template(merchant, kind="service", item_id=goods.id)
    assert make_template(merchant, kind="service", item_id=service.id).item_id == service.id


def test_points_channel_is_exclusive_and_priced(database):
    merchant = make_merchant()
    with pytest.raises(ValidationFailed):
        make_template(merchant, channels=["own", "points"], points_cost=100)
    with pytest.raises(ValidationFailed) as error:
        make_template(merchant, channels=["points"])
    assert _field_of(error) == "points_cost"
    with pytest.raises(ValidationFailed):
        make_template(merchant, channels=["platform"])  # merchants have no platform channel


def test_platform_coupons_are_alliance_wide_and_audited(database):
    operator = create_operator("ops-1", "correct-horse-42", "operator")
    with pytest.raises(ValidationFailed):
        create_platform_template({"name": "平台券", "kind": "fixed", "discount_fen": 500,
                                  "valid_days": 7, "total_stock": 10, "scope": "merchant"},
                                 operator.id)
    template = create_platform_template({"name": "平台券", "kind": "fixed", "discount_fen": 500,
                                         "valid_days": 7, "total_stock": 10}, operator.id)
    assert template.merchant_id is None and template.scope == "alliance"
    assert template.tier == "platform" and template.channel_set == {"platform"}
    assert OperatorAuditLog.get().action == "coupon_template.create"


def test_stock_cannot_drop_below_what_was_issued(database):
    merchant = make_merchant()
    template = make_template(merchant, total_stock=5)
    claims.claim(template.id, make_user().id)
    claims.claim(template.id, make_user().id)
    with pytest.raises(ValidationFailed) as error:
        update_template(template.id, merchant.id, {"total_stock": 1})
    assert error.value.details["issued"] == 2
    assert update_template(template.id, merchant.id, {"total_stock": 2}).total_stock == 2


def test_terms_are_fixed_after_creation_and_ended_is_final(database):
    merchant = make_merchant()
    template = make_template(merchant)
    with pytest.raises(ValidationFailed) as error:
        update_template(template.id, merchant.id, {"discount_fen": 1})
    assert error.value.details["fields"] == ["discount_fen"]
    update_template(template.id, merchant.id, {"status": "ended"})
    with pytest.raises(CouponTemplateEnded):
        update_template(template.id, merchant.id, {"status": "active"})


def test_another_merchants_template_is_not_found(database):
    template = make_template(make_merchant())
    with pytest.raises(CouponTemplateNotFound):
        update_template(template.id, make_merchant().id, {"name": "偷改"})


def test_distribution_needs_the_partner_channel_and_another_approved_merchant(database):
    issuer = make_merchant()
    own_only = make_template(issuer)
    partner_ok = make_template(issuer, channels=["own", "partner"])
    with pytest.raises(ValidationFailed):
        add_distribution(own_only.id, issuer.id, make_merchant().id, 100, actor_id=1)
    for partner in (issuer, make_merchant(status="pending")):
        with pytest.raises(ValidationFailed):
            add_distribution(partner_ok.id, issuer.id, partner.id, 100, actor_id=1)


def test_distribution_is_renewed_not_duplicated_and_either_side_ends_it(database):
    issuer, partner = make_merchant(), make_merchant()
    template = make_template(issuer, channels=["partner"])
    first = add_distribution(template.id, issuer.id, partner.id, 100, actor_id=1)
    end_distribution(first.id, partner.id)
    renewed = add_distribution(template.id, issuer.id, partner.id, 250, actor_id=1)
    assert renewed.id == first.id and renewed.status == "active" and renewed.commission_fen == 250
    assert CouponDistribution.select().count() == 1
    assert end_distribution(first.id, issuer.id).status == "ended"


@pytest.mark.skipif(bool(MYSQL_URL), reason="SQLite's planner (MariaDB plans by statistics)")
def test_used_counts_read_only_the_templates_own_coupons(database):
    # Through (status, valid_until), SQLite counted every used coupon of the platform for
    # each page of templates (76 ms with 200k coupons; 0.9 ms through (template, status)).
    with recorded_sql() as statements:
        assert used_counts([1, 2]) == {}
    [sql] = [s.sql for s in statements]
    plan = [row[3] for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}",
                                             [None] * sql.count("?"))]
    assert any("coupon_template_id_status" in step for step in plan), plan


def test_coupon_center_pages_are_full_while_open_templates_remain(database):
    from alliance.coupons.models import CouponTemplate
    from alliance.coupons.queries import open_templates

    merchant = make_merchant()
    older = [make_template(None, name=f"平台券{n}") for n in range(3)]
    exchange = make_template(merchant, channels=["points"], points_cost=100)
    make_template(merchant, channels=["own", "partner"])
    newest_open = make_template(None, channels=["platform"])
    # Newer than all of them: sold out, ended, not yet open, past its validity.
    sold_out = make_template(None, total_stock=1)
    CouponTemplate.update(issued=1).where(CouponTemplate.id == sold_out.id).execute()
    make_template(None, claim_starts_at="2099-01-01T00:00:00+08:00")
    ended = make_template(None)
    CouponTemplate.update(status="ended").where(CouponTemplate.id == ended.id).execute()
    expired = make_template(None, valid_days=None, valid_from="2020-01-01T00:00:00+08:00",
                            valid_until="2099-01-01T00:00:00+08:00")
    CouponTemplate.update(valid_until="2020-02-01 00:00:00").where(
        CouponTemplate.id == expired.id).execute()

    first = open_templates("platform", None, None, 2)
    assert [t["id"] for t in first["items"]] == [newest_open.id, older[2].id]
    rest = open_templates("platform", None, first["next_cursor"], 2)
    assert [t["id"] for t in rest["items"]] == [older[1].id, older[0].id]
    assert [t["id"] for t in open_templates("points", None, None, 20)["items"]] == [exchange.id]


def test_coupon_center_reads_the_templates_of_its_list_by_index(database):
    from alliance.coupons.queries import open_templates

    if MYSQL_URL:
        pytest.skip("SQLite's plan")
    # Through (status, id) with `channels LIKE`, it read every active template of the
    # platform (147 ms with 30k on MariaDB) to fill a page of the few in the center.
    with recorded_sql() as statements:
        open_templates("platform", None, None, 20)
    [sql] = [s.sql for s in statements]
    plan = [row[3] for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}",
                                             [None] * sql.count("?"))]
    assert any("coupon_template_center_status_id" in step for step in plan), plan


def test_center_follows_the_channels(database):
    from alliance.coupons.models import center_of

    assert [center_of(c) for c in (["own"], ["own", "partner"], ["platform"],
                                   ["own", "platform"], ["points"])] == [
        None, None, "platform", "platform", "points"]
    assert center_of("own,partner,platform") == "platform" and center_of("points") == "points"
