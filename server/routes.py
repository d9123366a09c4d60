"""Every URL the server answers, and the OpenAPI fragments that document them."""
from __future__ import annotations

import admin_api.analytics
import admin_api.auth
import admin_api.backups
import admin_api.campaigns
import admin_api.catalog
import admin_api.consumers
import admin_api.cooperation
import admin_api.coupons
import admin_api.jobs
import admin_api.lottery
import admin_api.merchants
import admin_api.oa
import admin_api.orders
import admin_api.platform
import admin_api.settlement
import admin_api.staff
import miniprogram_api.account
import miniprogram_api.aftersales
import miniprogram_api.applications
import miniprogram_api.auth
import miniprogram_api.campaigns
import miniprogram_api.counter
import miniprogram_api.group_buys
import miniprogram_api.lottery
import miniprogram_api.coupons
import miniprogram_api.goods
import miniprogram_api.members
import miniprogram_api.merchant_analytics
import miniprogram_api.merchant_catalog
import miniprogram_api.merchant_cooperation
import miniprogram_api.merchant_coupons
import miniprogram_api.merchant_members
import miniprogram_api.merchant_orders
import miniprogram_api.merchant_settlement
import miniprogram_api.merchant_shops
import miniprogram_api.merchant_staff
import miniprogram_api.merchants
import miniprogram_api.orders
import miniprogram_api.platform
import miniprogram_api.pushes
import miniprogram_api.referrals
import miniprogram_api.shares
import miniprogram_api.staff
import miniprogram_api.uploads
import payments.notify_handlers
import server.ops
import wechat_handlers.oa

# Modules that serve the public surface; each has routes() and OPENAPI (and maybe SCHEMAS).
API_MODULES = [
    server.ops,
    miniprogram_api.auth,
    miniprogram_api.account,
    miniprogram_api.members,
    miniprogram_api.referrals,
    miniprogram_api.shares,
    miniprogram_api.merchants,
    miniprogram_api.goods,
    miniprogram_api.staff,
    miniprogram_api.uploads,
    miniprogram_api.applications,
    miniprogram_api.merchant_shops,
    miniprogram_api.merchant_staff,
    miniprogram_api.merchant_catalog,
    miniprogram_api.orders,
    miniprogram_api.aftersales,
    miniprogram_api.merchant_orders,
    admin_api.orders,
    admin_api.auth,
    payments.notify_handlers,
    miniprogram_api.coupons,
    miniprogram_api.merchant_coupons,
    miniprogram_api.merchant_cooperation,
    miniprogram_api.counter,
    miniprogram_api.merchant_members,
    miniprogram_api.pushes,
    admin_api.merchants,
    admin_api.catalog,
    admin_api.coupons,
    admin_api.jobs,
    admin_api.oa,
    admin_api.analytics,
    admin_api.consumers,
    miniprogram_api.merchant_analytics,
    miniprogram_api.merchant_settlement,
    admin_api.settlement,
    miniprogram_api.campaigns,
    miniprogram_api.group_buys,
    admin_api.campaigns,
    miniprogram_api.lottery,
    admin_api.lottery,
    admin_api.cooperation,
    admin_api.platform,
    admin_api.backups,
    admin_api.staff,
    miniprogram_api.platform,
    wechat_handlers.oa,
]


def api_routes() -> list:
    routes: list = []
    for module in API_MODULES:
        routes.extend(module.routes())
    return routes


def openapi_fragments() -> tuple[list[dict], dict]:
    fragments, schemas = [], {}
    for module in API_MODULES:
        fragments.append(module.OPENAPI)
        schemas.update(getattr(module, "SCHEMAS", {}))
    return fragments, schemas
