import pytest

from alliance.accounts.permissions import Principal
from alliance.errors import PermissionDenied
from alliance.merchants.staff import (MerchantChoiceRequired, MerchantNotActive,
                                      NotMerchantStaff, require_merchant_permission)
from tests.factories import add_staff, make_merchant, make_user


def _principal(user):
    return Principal(kind="user", id=user.id, roles=frozenset({"consumer"}))


def test_only_merchant_is_chosen_by_default(database):
    merchant = make_merchant()
    clerk = add_staff(merchant, "merchant_clerk")
    membership = require_merchant_permission(_principal(clerk), "merchant:redeem")
    assert membership.merchant_id == merchant.id and membership.role == "merchant_clerk"


def test_clerk_cannot_edit_the_catalog_or_see_finance(database):
    clerk = add_staff(make_merchant(), "merchant_clerk")
    for permission in ("merchant:catalog", "merchant:finance", "merchant:staff"):
        with pytest.raises(PermissionDenied) as error:
            require_merchant_permission(_principal(clerk), permission)
        assert error.value.details == {"permission": permission, "role": "merchant_clerk"}


def test_staff_of_a_merchant_cannot_act_for_another(database):
    mine, other = make_merchant(), make_merchant()
    manager = add_staff(mine, "merchant_manager")
    with pytest.raises(NotMerchantStaff):
        require_merchant_permission(_principal(manager), "merchant:read", other.id)


def test_several_merchants_need_a_choice(database):
    user = make_user()
    first, second = make_merchant(), make_merchant()
    add_staff(first, "merchant_clerk", user)
    add_staff(second, "merchant_manager", user)
    with pytest.raises(MerchantChoiceRequired) as error:
        require_merchant_permission(_principal(user), "merchant:read")
    assert error.value.details["merchant_ids"] == [first.id, second.id]
    assert require_merchant_permission(_principal(user), "merchant:catalog",
                                       second.id).role == "merchant_manager"


def test_user_without_a_role_is_not_staff(database):
    with pytest.raises(NotMerchantStaff):
        require_merchant_permission(_principal(make_user()), "merchant:read")


def test_removed_staff_lose_access(database):
    from alliance.merchants.models import StaffMembership

    clerk = add_staff(make_merchant(), "merchant_clerk")
    StaffMembership.update(status="removed").where(StaffMembership.user == clerk.id).execute()
    with pytest.raises(NotMerchantStaff):
        require_merchant_permission(_principal(clerk), "merchant:redeem")


def test_suspended_merchant_staff_may_only_read(database):
    merchant = make_merchant(status="suspended")
    owner = merchant.owner
    membership = require_merchant_permission(_principal(owner), "merchant:read")
    assert membership.merchant_id == merchant.id
    with pytest.raises(MerchantNotActive):
        require_merchant_permission(_principal(owner), "merchant:redeem")


def test_operator_principal_is_not_staff(database):
    make_merchant()
    with pytest.raises(NotMerchantStaff):
        require_merchant_permission(Principal(kind="operator", id=1), "merchant:read")
