// 结算对账: the statements of each month (Asia/Shanghai), a period's summary and its balance
// check, one statement with its lines and items, closing a month and recording a payout.
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const STATUS = { issued: "待打款", paid: "已打款" };
  const TONE = { issued: "warn", paid: "ok" };
  const ITEM_LIMIT = 50;

  // A signed amount from the merchant's side: + the platform pays it, − it owes.
  function signed(value) {
    const n = Number(value || 0);
    return (n < 0 ? "−" : "") + fen(Math.abs(n));
  }

  function counterparty(id) { return id ? `商户 #${id}` : "平台"; }

  function lastMonth() {
    const now = new Date(Date.now() + 8 * 3600 * 1000);  // Asia/Shanghai, whatever the browser's zone
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    return month.toISOString().slice(0, 7);
  }

  async function summaryCard(period) {
    const s = await api("GET", "/api/admin/v1/settlement/summary?period=" + encodeURIComponent(period));
    const check = s.balanced ? W.badge("平衡", "ok") : W.badge("不平衡", "bad");
    const unbalanced = s.unbalanced_statement_ids.length
      ? `<p class="error">以下对账单与明细不符：${s.unbalanced_statement_ids.map(id => `<a href="#/settlement?id=${id}">#${id}</a>`).join(" ")}</p>` : "";
    return `<div class="card"><h3>${esc(s.period)} 汇总 ${check}</h3>
      <p class="muted">对账单 ${s.statements} 份（待打款 ${s.by_status.issued || 0}，已打款 ${s.by_status.paid || 0}）；
      平台应付商户合计 ${esc(signed(s.net_fen))}；商户之间往来合计 ${esc(signed(s.between_merchants_fen))}（平衡时为 0）。</p>
      ${unbalanced}${table([
        { title: "项目", value: l => l.label },
        { title: "笔数", value: l => l.item_count },
        { title: "金额", value: l => signed(l.amount_fen) },
      ], s.lines)}</div>`;
  }

  async function renderList(view, params) {
    const filters = W.filters("settlement", [
      { name: "period", label: "月份", placeholder: "2026-11" },
      { name: "merchant_id", label: "商户ID", type: "number" },
      { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
    ], params);
    const page = await api("GET", "/api/admin/v1/statements" + W.query(params, ["period", "merchant_id", "status", "cursor"]));
    view.innerHTML = `<div class="card"><h3>结算对账单 ${W.button("close", "", "生成月度对账单")}</h3>
      <p class="muted">每月 1 日 03:00 自动生成上月对账单；金额以商户视角计：正数为平台应付商户，负数为商户应付。</p>
      ${filters}${table([
        { title: "编号", html: s => `<a href="#/settlement?id=${s.id}">#${s.id}</a>` },
        { title: "月份", value: s => s.period },
        { title: "商户", html: s => `<a href="#/merchants?id=${s.merchant_id}">${esc(s.merchant_name || "#" + s.merchant_id)}</a>` },
        { title: "明细", value: s => s.item_count },
        { title: "结算金额", value: s => signed(s.net_fen) },
        { title: "状态", html: s => W.badge(label(STATUS, s.status), TONE[s.status]) },
        { title: "生成时间", value: s => time(s.issued_at) },
      ], page.items)}${W.pager("settlement", params, page.next_cursor)}</div>`
      + (params.get("period") ? await summaryCard(params.get("period")) : "");
    W.bindFilters(view);
    W.bindActions(view, {
      close: () => W.act({
        title: "生成月度对账单", confirm: "生成", done: "已提交：商户多时需几分钟，生成的对账单会陆续出现在列表中",
        message: "为该月（已结束）尚未出账的收支生成各商户的对账单；重复生成不会重复计入。",
        fields: [{ name: "period", label: "月份（如 2026-11）", value: lastMonth(), required: true }],
        action: v => Console.create("/api/admin/v1/statements", { period: v.period }),
      }),
    });
  }

  async function renderDetail(view, id, params) {
    const s = await api("GET", `/api/admin/v1/statements/${encodeURIComponent(id)}`);
    const items = await api("GET", `/api/admin/v1/statements/${encodeURIComponent(id)}/items`
      + W.query(params, ["cursor"], { limit: ITEM_LIMIT }));
    const payout = s.status === "issued" ? W.button("payout", s.id, "登记打款", "danger") : "";
    view.innerHTML = `<p><a href="#/settlement?period=${encodeURIComponent(s.period)}">« 返回 ${esc(s.period)} 对账单</a></p>
      <div class="card"><h3>对账单 #${s.id} ${W.badge(label(STATUS, s.status), TONE[s.status])} ${payout}</h3>
      <dl class="grid"><dt>商户</dt><dd>${esc((s.merchant_name || "") + " #" + s.merchant_id)}</dd>
        <dt>月份</dt><dd>${esc(s.period)}（${esc(time(s.period_start))} 至 ${esc(time(s.period_end))}）</dd>
        <dt>结算金额</dt><dd>${esc(signed(s.net_fen))}</dd><dt>生成时间</dt><dd>${esc(time(s.issued_at))}</dd>
        <dt>打款</dt><dd>${s.paid_at ? esc(time(s.paid_at) + "（" + s.payout_reference + "）") : "—"}</dd></dl>
      ${table([
        { title: "项目", value: l => l.label },
        { title: "笔数", value: l => l.item_count },
        { title: "金额", value: l => signed(l.amount_fen) },
      ], s.lines)}</div>
      <div class="card"><h3>明细 ${W.button("csv", s.id, "导出 CSV", "secondary")}</h3>${table([
        { title: "项目", value: i => i.label },
        { title: "订单", html: i => i.order_no ? `<a href="#/orders?no=${encodeURIComponent(i.order_no)}">${esc(i.order_no)}</a>` : "—" },
        { title: "对方", value: i => counterparty(i.counterparty_merchant_id) },
        { title: "金额", value: i => signed(i.amount_fen) },
        { title: "计费基数 / 费率", value: i => i.rate_bp === null || i.rate_bp === undefined ? "—" : fen(i.basis_fen) + " × " + (i.rate_bp / 100).toFixed(2) + "%" },
        { title: "发生时间", value: i => time(i.occurred_at) },
      ], items.items)}${W.pager("settlement", params, items.next_cursor)}</div>`;
    W.bindActions(view, {
      csv: sid => Console.download(`/api/admin/v1/statements/${encodeURIComponent(sid)}/items.csv`, `对账单-${s.period}-${s.merchant_id}.csv`).catch(Console.failed),
      payout: sid => W.act({
        title: "登记打款 #" + sid, confirm: "登记", danger: true, done: "已登记打款",
        message: "确认已按结算金额完成打款（或收款），登记后对账单变为已打款，记入审计日志。",
        fields: [{ name: "reference", label: "打款流水号", required: true }],
        action: v => api("POST", `/api/admin/v1/statements/${encodeURIComponent(sid)}/payout`, { reference: v.reference }),
      }),
    });
  }

  Console.register({
    id: "settlement", title: "结算对账", permission: "admin:settlement",
    render(view, params) { return params.get("id") ? renderDetail(view, params.get("id"), params) : renderList(view, params); },
  });
})();
