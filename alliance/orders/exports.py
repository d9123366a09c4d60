"""Orders as CSV for a finance clerk's or a merchant's spreadsheet (the lists' filters), a
batch at a time, newest first: amounts in fen and in yuan (exactly, never a float), times in
Asia/Shanghai. No personal data of buyers: their id only."""
from __future__ import annotations

import csv
import io

from alliance.clock import to_local_iso
from alliance.merchants.models import Merchant
from alliance.money import yuan
from alliance.orders.models import Order
from alliance.orders.queries import filtered_orders

CSV_BATCH = 500
STATUS_NAMES = {"pending_payment": "待支付", "paid": "已支付", "shipped": "已发货",
                "service_issued": "待核销", "completed": "已完成", "cancelled": "已取消",
                "refunding": "退款中", "refunded": "已退款"}
CHANNEL_NAMES = {"wechatpay": "微信支付", "wechatpay_v2": "微信支付", "alipay": "支付宝"}
KIND_NAMES = {"goods": "商品", "service": "服务"}
HEADER = ("订单号", "商户ID", "商户", "买家ID", "类型", "状态", "下单时间", "支付时间",
          "支付方式", "支付流水号", "商品金额(分)", "运费(分)", "活动优惠(分)", "会员折扣(分)",
          "会员日优惠(分)", "优惠券(分)", "积分抵扣(分)", "应付(分)", "实付(分)", "已退款(分)",
          "实收(分)", "实收(元)", "异常")


def orders_csv(filters: dict, after_id: int | None) -> tuple[str, int | None]:
    """The orders ``filters`` select (``filtered_orders``' keywords) older than
    ``after_id`` (from the newest, with the header, when None); and where the next batch
    starts (None: that was the last)."""
    query = filtered_orders(**filters)
    if after_id is not None:
        query = query.where(Order.id < after_id)
    orders = list(query.order_by(Order.id.desc()).limit(CSV_BATCH))
    merchant_ids = {o.merchant_id for o in orders}
    names = dict(Merchant.select(Merchant.id, Merchant.name)
                 .where(Merchant.id.in_(merchant_ids)).tuples()) if merchant_ids else {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if after_id is None:
        writer.writerow(HEADER)
    for o in orders:
        kept = o.paid_fen - o.refunded_fen
        writer.writerow((o.order_no, o.merchant_id, names.get(o.merchant_id, ""), o.user_id,
                         KIND_NAMES.get(o.kind, o.kind), STATUS_NAMES.get(o.status, o.status),
                         to_local_iso(o.created_at), to_local_iso(o.paid_at) or "",
                         CHANNEL_NAMES.get(o.paid_channel, o.paid_channel or ""),
                         o.transaction_id or "", o.items_fen, o.shipping_fen,
                         o.campaign_discount_fen, o.level_discount_fen,
                         o.member_day_discount_fen, o.coupon_discount_fen,
                         o.points_discount_fen, o.payable_fen, o.paid_fen, o.refunded_fen, kept,
                         yuan(kept), (o.abnormal_reason or "是") if o.abnormal else ""))
    return out.getvalue(), (orders[-1].id if len(orders) == CSV_BATCH else None)
