// 异业合作: cooperations between merchants. The list by status and merchant; one
// cooperation with its current terms, what it brought and its history (who proposed or
// countered what, when; times as the API gives them, in Asia/Shanghai); ending an open one
// that breaks the rules, with a reason (audited, both merchants told).
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const KIND = { coupon_distribution: "代发优惠券", joint_marketing: "联合营销", resource_exchange: "资源互换" };
  const STATUS = { proposed: "洽谈中", accepted: "合作中", rejected: "已拒绝", withdrawn: "已撤回", ended: "已结束", expired: "已过期" };
  const TONE = { proposed: "warn", accepted: "ok", rejected: "bad", expired: "bad" };
  // What each history entry did; "expire" and "terminate" are the platform's.
  const ACTION = {
    propose: "发起合作", counter: "修改条款", accept: "接受合作", reject: "拒绝合作", withdraw: "撤回邀请",
    end: "结束合作", expire: "到期", terminate: "平台终止",
  };
  const ACTION_TONE = { accept: "ok", reject: "bad", terminate: "bad", expire: "warn" };
  const OPEN = ["proposed", "accepted"];

  function percent(bp) { return (Number(bp || 0) / 100).toFixed(2) + "%"; }

  function merchant(party) {
    return `<a href="#/merchants?id=${party.merchant_id}">${esc(party.name || "商户 #" + party.merchant_id)}</a>`;
  }

  // One term as shown, by its name in the API's `terms`.
  const TERM = {
    commission_fen: ["每张佣金", t => fen(t.commission_fen)],
    sales_share_bp: ["销售分成", t => percent(t.sales_share_bp)],
    template_ids: ["代发优惠券", t => (t.template_ids || []).length ? t.template_ids.map(id => "#" + id).join("、") : "—"],
    ends_at: ["结束时间", t => t.ends_at ? time(t.ends_at) : "不限"],
    description: ["合作说明", t => t.description || "—"],
  };

  // A coupon distribution by its money terms; another kind by its description and the
  // money terms it sets.
  function termsText(kind, t) {
    if (kind === "coupon_distribution") return ["commission_fen", "sales_share_bp", "template_ids"].map(n => TERM[n][0] + " " + TERM[n][1](t)).join("；");
    const text = (t.description || "").length > 40 ? t.description.slice(0, 40) + "…" : t.description;
    return [text, ...["commission_fen", "sales_share_bp"].filter(n => t[n]).map(n => TERM[n][0] + " " + TERM[n][1](t))].filter(Boolean).join("；") || "—";
  }

  // How a closed cooperation closed: the last entry of its history, with its message.
  function closing(c) {
    const last = c.history[c.history.length - 1];
    if (OPEN.includes(c.status) || !last) return "—";
    const what = last.merchant_id ? (last.merchant_name || "商户 #" + last.merchant_id) + " " + label(ACTION, last.action)
      : last.action === "expire" ? "到期，系统自动关闭" : label(ACTION, last.action);
    return esc(what + (last.message ? "：" + last.message : ""));
  }

  // What an entry of the history changed from the terms before it ("销售分成 3.00% → 8.00%").
  function changes(before, after) {
    if (!before) return "";
    return Object.keys(TERM).filter(n => JSON.stringify(before[n]) !== JSON.stringify(after[n]))
      .map(n => TERM[n][0] + "：" + TERM[n][1](before) + " → " + TERM[n][1](after)).join("；");
  }

  function statusCell(c) {
    const turn = c.status === "proposed" && c.turn_merchant_id
      ? `<br><small class="muted">待${esc(c.turn_merchant_id === c.partner.merchant_id ? c.partner.name : c.proposer.name)}答复</small>` : "";
    return W.badge(label(STATUS, c.status), TONE[c.status]) + turn;
  }

  function resultsText(r) {
    return `领券 ${r.coupons_claimed}（${r.customers} 人）· 核销 ${r.coupons_redeemed} · 线上使用 ${r.coupons_used}<br>`
      + `<small class="muted">销售额 ${esc(fen(r.sales_fen))} · 佣金 ${esc(fen(r.commission_fen))}</small>`;
  }

  function endCooperation(id) {
    return W.act({
      title: "终止合作 #" + id, confirm: "终止", danger: true, done: "合作已终止",
      message: "用于违反联盟规则的合作：洽谈中的邀请关闭，进行中的合作立即结束（代发的优惠券停止发放，已发出的按原条款结算）。原因会记入合作记录和审计日志，并通知双方商户。",
      fields: [{ name: "reason", label: "终止原因", type: "textarea", required: true }],
      action: v => api("POST", `/api/admin/v1/cooperations/${encodeURIComponent(id)}/end`, { reason: v.reason }),
    });
  }

  async function renderList(view, params) {
    const filters = W.filters("cooperations", [
      { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
      { name: "merchant_id", label: "商户ID", type: "number" },
    ], params);
    const page = await api("GET", "/api/admin/v1/cooperations" + W.query(params, ["status", "merchant_id", "cursor"]));
    view.innerHTML = `<div class="card"><h3>异业合作</h3>
      <p class="muted">商户之间发起、洽谈的合作；发起方为出资方（发券并支付佣金、分成），合作方代发优惠券并获得佣金。按商户筛选时包含其发起和收到的合作。</p>
      ${filters}${table([
        { title: "ID", html: c => `<a href="#/cooperations?id=${c.id}">#${c.id}</a>` },
        { title: "类型", value: c => label(KIND, c.kind) },
        { title: "发起方 → 合作方", html: c => merchant(c.proposer) + " → " + merchant(c.partner) },
        { title: "当前条款", html: c => esc(termsText(c.kind, c.terms)) + `<br><small class="muted">第 ${c.version} 版 · 结束时间 ${esc(TERM.ends_at[1](c.terms))}</small>` },
        { title: "状态", html: statusCell },
        { title: "成效", html: c => resultsText(c.results) },
        { title: "更新时间", value: c => time(c.updated_at) },
        { title: "操作", html: c => [W.button("view", c.id, "查看", "secondary"),
          ...(OPEN.includes(c.status) ? [W.button("end", c.id, "终止", "danger")] : [])].join(" ") },
      ], page.items)}${W.pager("cooperations", params, page.next_cursor)}</div>`;
    W.bindFilters(view);
    W.bindActions(view, { view: id => Console.go("cooperations", { id }), end: id => endCooperation(id) });
  }

  function resultsSection(r) {
    const kpi = (title, value, note) => `<div class="card kpi">${esc(title)}<b>${esc(value)}</b>${note ? `<span class="muted">${esc(note)}</span>` : ""}</div>`;
    return `<h2>合作成效 <small class="muted">按此合作发出的优惠券统计；销售额为已支付订单（全额退款的不计）</small></h2><div class="kpis">
      ${kpi("领券数", r.coupons_claimed, r.customers + " 位顾客")}${kpi("到店核销", r.coupons_redeemed)}${kpi("线上使用", r.coupons_used)}
      ${kpi("应付佣金", fen(r.commission_fen), r.commission_count + " 笔")}${kpi("带来订单", r.orders)}
      ${kpi("销售额", fen(r.sales_fen), r.refunded_fen ? "已退款 " + fen(r.refunded_fen) : "")}</div>`;
  }

  function historySection(c) {
    let before = null;
    const rows = c.history.map(e => {
      const row = { ...e, changed: e.action === "counter" ? changes(before, e.terms) : "" };
      before = e.terms;
      return row;
    });
    return `<div class="card"><h3>合作记录 <small class="muted small-link">时间为北京时间</small></h3>${table([
      { title: "时间", value: e => time(e.at) },
      { title: "操作方", html: e => e.merchant_id ? `<a href="#/merchants?id=${e.merchant_id}">${esc(e.merchant_name || "商户 #" + e.merchant_id)}</a>` + (e.staff_user_id ? ` <small class="muted">员工 #${e.staff_user_id}</small>` : "") : "平台" },
      { title: "操作", html: e => W.badge(label(ACTION, e.action), ACTION_TONE[e.action]) },
      { title: "条款版本", value: e => "第 " + e.version + " 版" },
      { title: "条款", html: e => e.action === "propose" ? esc(termsText(c.kind, e.terms) + "；结束时间 " + TERM.ends_at[1](e.terms))
        : e.changed ? esc(e.changed) : `<span class="muted">—</span>` },
      { title: "留言 / 原因", value: e => e.message || "—" },
    ], rows)}</div>`;
  }

  async function renderDetail(view, id) {
    const c = await api("GET", `/api/admin/v1/cooperations/${encodeURIComponent(id)}`);
    const t = c.terms;
    const turn = c.status === "proposed" && c.turn_merchant_id
      ? (c.turn_merchant_id === c.partner.merchant_id ? merchant(c.partner) : merchant(c.proposer)) + " 答复" : "—";
    const row = (title, html) => `<dt>${esc(title)}</dt><dd>${html}</dd>`;
    view.innerHTML = `<p><a href="#/cooperations">« 返回合作列表</a></p>
      <div class="card"><h3>异业合作 <span class="muted">#${c.id}</span> ${W.badge(label(KIND, c.kind))} ${W.badge(label(STATUS, c.status), TONE[c.status])}
        ${OPEN.includes(c.status) ? W.button("end", c.id, "终止合作", "danger") : ""}</h3>
      <dl class="grid">
        ${row("发起方（出资方）", merchant(c.proposer))}${row("合作方", merchant(c.partner))}
        ${row("当前条款", "第 " + c.version + " 版")}${row("等待", turn + (c.answer_by ? ` <small class="muted">${esc(time(c.answer_by))} 前未答复即过期</small>` : ""))}
        ${row("每张佣金", esc(TERM.commission_fen[1](t)) + ' <small class="muted">代发的券每核销或使用一张</small>')}${row("销售分成", esc(TERM.sales_share_bp[1](t)) + ' <small class="muted">用券订单实付</small>')}
        ${row("代发优惠券", esc(TERM.template_ids[1](t)))}${row("结束时间", esc(TERM.ends_at[1](t)))}
        ${row("发起时间", esc(time(c.created_at)))}${row("接受时间", esc(time(c.accepted_at)))}
        ${row("更新时间", esc(time(c.updated_at)))}${row("关闭时间", esc(time(c.closed_at)))}
        ${row("合作说明", esc(t.description || "—"))}${row("关闭方式", closing(c))}
      </dl></div>
      ${resultsSection(c.results)}
      ${historySection(c)}`;
    W.bindActions(view, { end: cid => endCooperation(cid) });
  }

  Console.register({
    id: "cooperations", title: "异业合作", permission: "admin:merchants",
    render(view, params) { return params.get("id") ? renderDetail(view, params.get("id")) : renderList(view, params); },
  });
})();
