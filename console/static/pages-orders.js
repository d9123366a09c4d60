// 订单管理: every order with filters (abnormal ones too), one order, abnormal resolution;
// beside the abnormal orders, the payment notifications nobody could apply (unknown trades).
"use strict";
const OrderLabels = {
  STATUS: { pending_payment: "待支付", paid: "已支付", shipped: "已发货", service_issued: "待核销", completed: "已完成", cancelled: "已取消", refunding: "退款中", refunded: "已退款" },
  TONE: { pending_payment: "warn", paid: "ok", completed: "ok", cancelled: "", refunding: "warn", refunded: "bad" },
  CHANNEL: { wechatpay: "微信支付", wechatpay_v2: "微信支付（V2）", alipay: "支付宝" },
};

(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const { STATUS, TONE, CHANNEL } = OrderLabels;
  const KIND = { goods: "实物", service: "服务" };
  const NOTICE_KIND = { payment: "支付", refund: "退款" };
  const NOTICE_REASON = {
    UNKNOWN_TRADE: "未知交易", AMOUNT_MISMATCH: "金额不符",
    UNKNOWN_REFUND: "未知退款", REFUND_AMOUNT_MISMATCH: "退款金额不符",
  };
  const NOTICE_LIMIT = 50;

  // The newest abnormal notifications: money the provider holds for a trade no order explains.
  async function abnormalNotices() {
    const page = await api("GET", "/api/admin/v1/payment-notifications?limit=" + NOTICE_LIMIT);
    const more = page.next_cursor ? `仅显示最新 ${NOTICE_LIMIT} 条。` : "";
    const order = n => n.order_no
      ? `<a href="#/orders?no=${encodeURIComponent(n.order_no)}">${esc(n.order_no)}</a>` : "无";
    const note = "已验签但未能入账的支付、退款通知（如同一商户号下其他系统或环境的交易），"
      + "请与支付渠道核对。" + more;
    return `<div class="card"><h3>异常支付通知 ${W.badge("待对账", "bad")}</h3>
      <p class="muted">${esc(note)}</p>${table([
      { title: "渠道", value: n => label(CHANNEL, n.channel) },
      { title: "类型", value: n => label(NOTICE_KIND, n.kind) },
      { title: "商户订单号", value: n => n.out_trade_no || "—" },
      { title: "退款单号", value: n => n.out_refund_no || "—" },
      { title: "金额", value: n => fen(n.amount_fen) },
      { title: "原因", html: n => W.badge(label(NOTICE_REASON, n.reason), "bad") },
      { title: "平台订单", html: order },
      { title: "支付流水号", value: n => n.transaction_id || "—" },
      { title: "收到时间", value: n => time(n.received_at) },
    ], page.items)}</div>`;
  }

  async function renderList(view, params) {
    const filters = W.filters("orders", [
      { name: "order_no", label: "订单号" },
      { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
      { name: "abnormal", label: "异常", options: [["", "全部"], ["true", "仅异常"], ["false", "正常"]] },
      { name: "merchant_id", label: "商户ID", type: "number" },
      { name: "user_id", label: "用户ID", type: "number" },
      { name: "from", label: "从", type: "date" },
      { name: "to", label: "到", type: "date" },
    ], params);
    const page = await api("GET", "/api/admin/v1/orders" + W.query(params, ["order_no", "status", "abnormal", "merchant_id", "user_id", "from", "to", "cursor"]));
    const abnormalOnly = params.get("abnormal") === "true";
    view.innerHTML = `<div class="card"><h3>订单管理 ${abnormalOnly ? W.badge("异常订单", "bad") : `<a class="small-link" href="#/orders?abnormal=true">只看异常订单</a>`} ${W.button("export", "", "导出 CSV", "secondary")}</h3>${filters}${table([
      { title: "订单号", html: o => `<a href="#/orders?no=${encodeURIComponent(o.order_no)}">${esc(o.order_no)}</a>` },
      { title: "商户", html: o => `<a href="#/merchants?id=${o.merchant_id}">${esc(o.merchant_name)}</a>` },
      { title: "类型", value: o => label(KIND, o.kind) },
      { title: "应付", value: o => fen(o.payable_fen) },
      { title: "已付 / 已退", value: o => fen(o.paid_fen) + " / " + fen(o.refunded_fen) },
      { title: "状态", html: o => W.badge(label(STATUS, o.status), TONE[o.status]) + (abnormalOnly ? " " + W.badge("异常", "bad") : "") },
      { title: "下单时间", value: o => time(o.created_at) },
    ], page.items)}${W.pager("orders", params, page.next_cursor)}</div>`
      + (abnormalOnly ? await abnormalNotices() : "");
    W.bindFilters(view);
    W.bindActions(view, {
      export: () => Console.download("/api/admin/v1/orders.csv" + W.query(params, ["status", "abnormal", "merchant_id", "user_id", "from", "to"]), "orders.csv").catch(Console.failed),
    });
  }

  function dl(pairs) {
    return `<dl class="grid">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
  }

  async function renderDetail(view, orderNo) {
    const o = await api("GET", `/api/admin/v1/orders/${encodeURIComponent(orderNo)}`);
    const b = o.breakdown;
    const abnormal = o.abnormal ? `<div class="card alert"><h3>异常订单</h3><p>${esc(o.abnormal_reason || "—")}（${esc(time(o.abnormal_at))}）</p>
      ${W.button("resolve", o.order_no, "处理完毕，移出异常列表", "danger")}</div>` : "";
    view.innerHTML = `<p><a href="#/orders">« 返回订单列表</a></p>${abnormal}
      <div class="card"><h3>订单 ${esc(o.order_no)} ${W.badge(label(STATUS, o.status), TONE[o.status])}</h3>
      ${dl([["商户", o.merchant_name + " #" + o.merchant_id], ["用户", "#" + o.user_id], ["类型", label(KIND, o.kind)],
        ["商品金额", fen(b.items_fen)], ["运费", fen(b.shipping_fen)], ["会员折扣", fen(b.level_discount_fen)],
        ["会员日", b.member_day ? fen(b.member_day.discount_fen) + "，积分 " + b.member_day.points_multiplier_pct + "%" : "—"],
        ["优惠券", fen(b.coupon_discount_fen)], ["积分抵扣", b.points_used + " 分 / " + fen(b.points_discount_fen)],
        ["应付", fen(o.payable_fen)], ["已付", fen(o.paid_fen) + (o.paid_channel ? "（" + label(CHANNEL, o.paid_channel) + "）" : "")],
        ["已退", fen(o.refunded_fen)], ["支付流水号", o.transaction_id || "—"],
        ["下单", time(o.created_at)], ["支付", time(o.paid_at)], ["支付截止", time(o.expires_at)], ["发货", time(o.shipped_at) + (o.tracking_no ? "（" + o.carrier + " " + o.tracking_no + "）" : "")],
        ["完成", time(o.completed_at)], ["取消", time(o.cancelled_at) + (o.cancel_reason ? "（" + o.cancel_reason + "）" : "")],
        ["收货人", [o.contact.name, o.contact.phone, o.contact.address].filter(Boolean).join(" ") || "—"], ["备注", o.note || "—"],
        ["售后", o.after_sale_id ? "#" + o.after_sale_id : "—"]])}</div>
      <div class="card"><h3>商品</h3>${table([
        { title: "名称", value: l => l.name }, { title: "单价", value: l => fen(l.unit_price_fen) }, { title: "数量", value: l => l.quantity },
        { title: "优惠", value: l => fen(l.discount_fen) }, { title: "实付", value: l => fen(l.payable_fen) }, { title: "已退货", value: l => l.returned_quantity },
      ], o.items)}</div>
      <div class="card"><h3>支付记录</h3>${table([
        { title: "商户订单号", value: a => a.out_trade_no }, { title: "渠道", value: a => label(CHANNEL, a.channel) }, { title: "金额", value: a => fen(a.amount_fen) },
        { title: "状态", value: a => a.status }, { title: "流水号", value: a => a.transaction_id || "—" }, { title: "创建", value: a => time(a.created_at) }, { title: "说明", value: a => a.note || "" },
      ], o.attempts)}</div>
      <div class="card"><h3>退款记录</h3>${table([
        { title: "退款单号", value: r => r.out_refund_no }, { title: "金额", value: r => fen(r.amount_fen) }, { title: "状态", value: r => r.status },
        { title: "原因", value: r => r.reason }, { title: "错误", value: r => r.last_error || "" }, { title: "创建", value: r => time(r.created_at) }, { title: "完成", value: r => time(r.finished_at) },
      ], o.refunds)}</div>`;
    W.bindActions(view, {
      resolve: no => W.act({ title: "处理异常订单 " + no, message: "说明处理结果（记入审计日志），订单将移出异常列表。", confirm: "确认处理", danger: true, done: "已处理",
        fields: [{ name: "note", label: "处理说明", type: "textarea", required: true }],
        action: v => api("POST", `/api/admin/v1/orders/${encodeURIComponent(no)}/abnormal-resolution`, { note: v.note }) }),
    });
  }

  Console.register({
    id: "orders", title: "订单管理", permission: "admin:orders",
    render(view, params) { return params.get("no") ? renderDetail(view, params.get("no")) : renderList(view, params); },
  });
})();
