// 商户管理: the merchant list with filters, one merchant's application, the audit actions.
"use strict";
(() => {
  const { esc, time, label, table, api } = Console;
  const W = Widgets;
  const STATUS = { pending: "待审核", approved: "已通过", rejected: "已驳回", suspended: "已暂停" };
  const TONE = { pending: "warn", approved: "ok", rejected: "bad", suspended: "bad" };
  const ROLE = { merchant_owner: "店主", merchant_manager: "店长", merchant_clerk: "店员" };
  const IMAGE = { licence_upload: "营业执照", id_front_upload: "身份证人像面", id_back_upload: "身份证国徽面" };
  // What each status allows: [action, button text, reason required, tone, endpoint].
  const ACTIONS = {
    pending: [["approve", "审核通过", false, "", id => `/api/admin/v1/merchants/${id}/approve`],
              ["reject", "驳回", true, "danger", id => `/api/admin/v1/merchants/${id}/reject`]],
    approved: [["suspend", "暂停营业", true, "danger", id => `/api/admin/v1/merchants/${id}/suspend`]],
    suspended: [["reinstate", "恢复", false, "", id => `/api/admin/v1/merchants/${id}/reinstate`]],
    rejected: [],
  };
  let industries = null;

  async function industryOptions() {
    if (!industries) industries = (await api("GET", "/api/v1/industries")).items;
    return industries.map(i => [i.code, i.name]);
  }

  function actionButtons(m) {
    return (ACTIONS[m.status] || []).map(([a, text, , tone]) => W.button(a, m.id, text, tone)).join(" ");
  }

  function bindAudit(root) {
    const handlers = {};
    Object.values(ACTIONS).flat().forEach(([action, text, needsReason, tone, endpoint]) => {
      handlers[action] = (id) => W.act({
        title: text + "：商户 #" + id,
        message: needsReason ? "原因会通知商户并记入审核记录。" : "确认" + text + "该商户？",
        fields: [{ name: "reason", label: "原因", type: "textarea", required: needsReason }],
        confirm: text, danger: tone === "danger", done: "已" + text,
        action: (values) => api("POST", endpoint(id), { reason: values.reason || "" }),
      });
    });
    W.bindActions(root, handlers);
  }

  async function renderList(view, params) {
    const filters = W.filters("merchants", [
      { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
      { name: "industry", label: "行业", options: [["", "全部"], ...(await industryOptions())] },
      { name: "q", label: "搜索", placeholder: "名称、公司或信用代码" },
    ], params);
    const page = await api("GET", "/api/admin/v1/merchants" + W.query(params, ["status", "industry", "q", "cursor"]));
    view.innerHTML = `<div class="card"><h3>商户管理</h3>${filters}${table([
      { title: "ID", value: m => m.id },
      { title: "商户", html: m => `<a href="#/merchants?id=${m.id}">${esc(m.name)}</a><br><small class="muted">${esc(m.company_name)}</small>` },
      { title: "行业", value: m => m.industry_name },
      { title: "状态", html: m => W.badge(label(STATUS, m.status), TONE[m.status]) + (m.status_reason ? `<br><small class="muted">${esc(m.status_reason)}</small>` : "") },
      { title: "销售额", value: m => Console.fen(m.sales_fen) },
      { title: "提交时间", value: m => time(m.submitted_at) },
      { title: "操作", html: m => `<a href="#/merchants?id=${m.id}">详情</a> ` + actionButtons(m) },
    ], page.items)}${W.pager("merchants", params, page.next_cursor)}</div>`;
    W.bindFilters(view);
    bindAudit(view);
  }

  function dl(pairs) {
    return `<dl class="grid">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
  }

  const WEEKDAY = ["", "周一", "周二", "周三", "周四", "周五", "周六", "周日"];

  function memberDay(d) {
    if (!d.configured) return "未设置";
    const days = d.weekdays.map(n => WEEKDAY[n]).concat(d.month_days.map(n => "每月" + n + "日")).join("、");
    const span = d.starts_on || d.ends_on ? `（${d.starts_on || "…"} 至 ${d.ends_on || "…"}）` : "";
    return esc(`${d.enabled ? "已开启" : "已关闭"}：${days}${span}，${d.summary}，` +
      (d.min_level ? `${d.min_level} 级及以上会员` : "所有会员") + `；下一次 ${d.next_date || "—"}`);
  }

  async function renderDetail(view, id) {
    const m = await api("GET", `/api/admin/v1/merchants/${encodeURIComponent(id)}`);
    const a = m.application;
    const same = m.same_legal_rep_merchant_ids.length ? `<p class="warn-text">同一法人名下还有商户：${m.same_legal_rep_merchant_ids.map(i => `<a href="#/merchants?id=${i}">#${i}</a>`).join("、")}</p>` : "";
    view.innerHTML = `<p><a href="#/merchants">« 返回商户列表</a></p>
      <div class="card"><h3>${esc(m.name)} ${W.badge(label(STATUS, m.status), TONE[m.status])}</h3>${same}
      ${dl([["公司名称", esc(a.company_name)], ["统一社会信用代码", esc(a.credit_code)], ["行业", esc(a.industry_name)],
        ["法定代表人", esc(a.legal_rep_name)], ["身份证号", esc(a.legal_rep_id_number)], ["联系电话", esc(a.contact_phone)],
        ["店主", esc(a.owner.nickname) + ` (用户 #${a.owner.id})`], ["简介", esc(a.intro || "—")],
        ["提交时间", esc(time(a.submitted_at))], ["审核时间", esc(time(a.reviewed_at))],
        ["状态说明", esc(a.status_reason || "—")],
        ["会员日", memberDay(m.member_day)],
        ["员工", esc(Object.entries(m.staff_count).map(([r, n]) => label(ROLE, r) + " " + n).join("，") || "—")],
        ["资质材料", Object.entries(a.images).map(([k, url]) => `<a href="${esc(url)}" target="_blank" rel="noopener">${esc(label(IMAGE, k))}</a>`).join("　") || "—"]])}
      <div class="actions-row">${actionButtons(m)} <a href="#/cooperations?merchant_id=${m.id}">查看异业合作</a></div></div>
      <div class="card"><h3>门店</h3>${table([
        { title: "ID", value: s => s.id }, { title: "名称", value: s => s.name }, { title: "地址", value: s => s.address },
        { title: "电话", value: s => s.phone }, { title: "状态", value: s => (s.status === "open" ? "营业" : "关闭") + (s.listed ? "" : "（未上架）") },
      ], m.shops)}</div>
      <div class="card"><h3>审核记录</h3>${table([
        { title: "时间", value: h => time(h.at) }, { title: "变更", value: h => label(STATUS, h.from_status) + " → " + label(STATUS, h.to_status) },
        { title: "操作者", value: h => ({ system: "系统", operator: "运营", user: "商户" }[h.actor_kind] || h.actor_kind) + (h.actor_id ? " #" + h.actor_id : "") },
        { title: "原因", value: h => h.reason || "—" },
      ], a.history)}</div>`;
    bindAudit(view);
  }

  Console.register({
    id: "merchants", title: "商户管理", permission: "admin:merchants",
    render(view, params) { return params.get("id") ? renderDetail(view, params.get("id")) : renderList(view, params); },
  });
})();
