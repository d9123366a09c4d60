// 营销活动: flash sales, full reductions and group buys run by the platform (funded by it, joined by
// merchants) or by a merchant (audited by operators). The list, one campaign with its
// participants, items and effect; creating and changing a platform campaign; approving or
// rejecting a merchant's campaign or its join of a platform one; ending a campaign; a group
// buy's groups.
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const KIND = { flash_sale: "限时秒杀", full_reduction: "满减", group_buy: "拼团" };
  const GROUP = { open: "拼团中", succeeded: "已成团", failed: "未成团" };
  const GROUP_TONE = { open: "warn", succeeded: "ok", failed: "bad" };
  const ITEMS = { flash_sale: "秒杀", group_buy: "拼团" };
  const STATUS = { pending: "待审核", approved: "已通过", rejected: "已驳回", ended: "已结束" };
  // An approved campaign is shown by where "now" lies in its window (the API's `state`).
  const STATE = { upcoming: "未开始", running: "进行中", ended: "已结束" };
  const TONE = { pending: "warn", rejected: "bad", running: "ok" };
  const OWNER = { platform: "平台活动", merchant: "商户活动" };
  const JOIN = { pending: "待审核", approved: "已通过", rejected: "已驳回" };
  const JOIN_TONE = { pending: "warn", approved: "ok", rejected: "bad" };
  const MAX_TIERS = 5;

  function statusBadge(c) {
    return c.status === "approved" ? W.badge(label(STATE, c.state), TONE[c.state]) : W.badge(label(STATUS, c.status), TONE[c.status]);
  }

  function owner(c) {
    return c.merchant_id ? `<a href="#/merchants?id=${c.merchant_id}">${esc(c.merchant_name || "商户 #" + c.merchant_id)}</a>` : "平台";
  }

  function tierText(t) { return "满" + fen(t.threshold_fen) + "减" + fen(t.discount_fen); }

  function rules(c) {
    if (c.kind === "full_reduction") return (c.tiers || []).map(tierText).join("，") || "—";
    const limit = c.per_user_limit ? "每人每件限购 " + c.per_user_limit + " 件" : "不限购";
    return c.kind === "group_buy" ? c.group_size + " 人成团，" + c.group_hours + " 小时内有效；" + limit : limit;
  }

  function yuan(value) { return String(Number((Number(value) / 100).toFixed(2))); }

  // Tiers are typed one a line, "满 100 减 10" (yuan); sent in fen, in the order typed, so
  // the API's `tiers[i]` names the i-th line.
  function parseTiers(text) {
    const lines = String(text || "").split(/\n/).map(s => s.trim()).filter(Boolean);
    const fail = (message) => { const e = new Error(message); e.details = { field: "tiers" }; throw e; };
    if (!lines.length || lines.length > MAX_TIERS) fail("满减档位须为 1 到 " + MAX_TIERS + " 档");
    return lines.map((line, i) => {
      const numbers = line.match(/\d+(?:\.\d+)?/g) || [];
      if (numbers.length !== 2) fail("第 " + (i + 1) + " 档格式应为“满 100 减 10”");
      return { threshold_fen: Math.round(parseFloat(numbers[0]) * 100), discount_fen: Math.round(parseFloat(numbers[1]) * 100) };
    });
  }

  function tiersInput(tiers) { return (tiers || []).map(t => "满 " + yuan(t.threshold_fen) + " 减 " + yuan(t.discount_fen)).join("\n"); }

  // A field-named 400 about one tier (`tiers[1].discount_fen`) marks the tiers box and says which line.
  async function naming(promise) {
    try { return await promise; } catch (e) {
      const field = e.details && e.details.field;
      if (field && /^tiers\b/.test(field)) {
        const line = /^tiers\[(\d+)\]\.?(\w*)/.exec(field);
        if (line) e.message = "第 " + (Number(line[1]) + 1) + " 档" + (line[2] === "discount_fen" ? "减免金额须大于 0 且小于门槛" : line[2] === "threshold_fen" ? "门槛金额不合法" : "填写有误");
        e.details.field = "tiers";
      }
      throw e;
    }
  }

  // "YYYY-MM-DDTHH:MM" in Asia/Shanghai, whatever the browser's zone: what a datetime input
  // holds and what is sent (an ISO time without offset is Asia/Shanghai to the API).
  function shanghaiInput(ms) { return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16); }

  function windowFields(starts, ends) {
    return [
      { name: "starts_at", label: "开始时间", type: "datetime", required: true, value: starts },
      { name: "ends_at", label: "结束时间", type: "datetime", required: true, value: ends, hint: "活动在结束时间前有效，最长 366 天" },
    ];
  }

  const LIMIT_FIELD = { name: "per_user_limit", label: "每人每件限购（件，1-99）", type: "number", hint: "留空为不限购" };
  const TIERS_FIELD = { name: "tiers", label: "满减档位（元，每行一档）", type: "textarea", required: true, hint: "如“满 100 减 10”，最多 5 档；门槛越高减得越多" };
  const BUDGET_FIELD = { name: "budget_fen", label: "预算（元）", type: "money", hint: "平台出资的优惠累计达到预算后，活动不再给新订单优惠；不填为不限" };
  const JOIN_FIELD = { name: "join_requires_approval", label: "商户报名需审核", type: "checkbox" };
  const GROUP_FIELDS = [
    { name: "group_size", label: "成团人数（2-50）", type: "number", required: true, value: 3 },
    { name: "group_hours", label: "成团时限（小时，1-72）", type: "number", required: true, value: 24, hint: "开团后在时限内（不超过活动结束）未满员则自动退款" },
  ];

  function kindFields(kind, c) {
    if (kind === "full_reduction") return [{ ...TIERS_FIELD, value: c ? tiersInput(c.tiers) : undefined }];
    const limit = { ...LIMIT_FIELD, value: c ? c.per_user_limit : undefined };
    return kind === "group_buy" ? [limit, ...GROUP_FIELDS.map(f => c ? { ...f, value: c[f.name] } : f)] : [limit];
  }

  function createFields(kind) {
    const hour = 3600 * 1000;
    const start = Math.ceil(Date.now() / hour) * hour;
    return [
      { name: "name", label: "活动名称", required: true },
      { name: "description", label: "活动说明", type: "textarea" },
      ...windowFields(shanghaiInput(start), shanghaiInput(start + 7 * 24 * hour)),
      ...kindFields(kind),
      BUDGET_FIELD,
      { ...JOIN_FIELD, value: true },
    ];
  }

  function createBody(kind, v) {
    const body = { ...v, kind };
    if (kind === "full_reduction") body.tiers = parseTiers(v.tiers);
    return body;
  }

  async function createCampaign(kind) {
    const created = await W.dialog({
      title: "新建平台" + KIND[kind] + "活动", confirm: "创建",
      message: kind === "flash_sale"
        ? "平台出资。商户报名时提交参加的商品、秒杀价和活动库存，报名通过后按活动时间生效。"
        : kind === "group_buy"
          ? "平台出资。商户报名时提交参加的商品、拼团价和活动库存；消费者开团或参团下单，时限内满员即成团，未满员自动退款。"
          : "平台出资，适用于报名通过的商户的商品（按活动价计）；一笔订单取满足的最高一档。",
      fields: createFields(kind),
      submit: v => naming(Console.create("/api/admin/v1/campaigns", createBody(kind, v))),
    });
    if (created) { Console.notice("活动已创建"); Console.go("campaigns", { id: created.id }); }
  }

  // A started campaign keeps its start, per-user limit and tiers; the rest may change until it ends.
  function editFields(c) {
    const before = c.state === "upcoming";
    const [starts, ends] = windowFields(c.starts_at, c.ends_at);
    return [
      { name: "name", label: "活动名称", required: true, value: c.name },
      { name: "description", label: "活动说明", type: "textarea", value: c.description },
      ...(before ? [starts] : []), ends,
      ...(before ? kindFields(c.kind, c) : []),
      { ...BUDGET_FIELD, value: c.budget_fen },
      { ...JOIN_FIELD, value: c.join_requires_approval },
    ];
  }

  // Only what the operator changed is sent (a started campaign refuses its start even unchanged).
  function changes(c, fields, v) {
    const out = {};
    const names = fields.map(f => f.name);
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (v.name !== c.name) out.name = v.name;
    if ((v.description || "") !== (c.description || "")) out.description = v.description || null;
    ["starts_at", "ends_at"].forEach(n => { if (names.includes(n) && v[n] !== String(c[n]).slice(0, 16)) out[n] = v[n]; });
    if (names.includes("per_user_limit") && (v.per_user_limit ?? null) !== c.per_user_limit) out.per_user_limit = v.per_user_limit ?? null;
    if (names.includes("tiers")) {
      const tiers = parseTiers(v.tiers);
      const sorted = [...tiers].sort((a, b) => a.threshold_fen - b.threshold_fen);
      if (!same(sorted, c.tiers)) out.tiers = tiers;
    }
    if ((v.budget_fen ?? null) !== c.budget_fen) out.budget_fen = v.budget_fen ?? null;
    if (v.join_requires_approval !== c.join_requires_approval) out.join_requires_approval = v.join_requires_approval;
    if (!Object.keys(out).length) throw new Error("没有修改任何内容");
    return out;
  }

  function editCampaign(c) {
    const fields = editFields(c);
    return W.act({
      title: "修改活动 #" + c.id, confirm: "保存", done: "已保存", fields,
      message: c.state === "upcoming" ? "" : "活动已开始：开始时间、限购和满减档位不能再改。",
      action: v => naming(api("PATCH", `/api/admin/v1/campaigns/${c.id}`, changes(c, fields, v))),
    });
  }

  // Approving or rejecting (with a reason) a merchant's campaign, or a merchant's join.
  function review(title, path, approve, message) {
    return W.act({
      title, message, confirm: approve ? "通过" : "驳回", danger: !approve, done: approve ? "已通过" : "已驳回",
      fields: [approve ? { name: "reason", label: "审核备注（可选）" } : { name: "reason", label: "驳回原因", type: "textarea", required: true }],
      action: v => api("POST", path, { decision: approve ? "approve" : "reject", ...v }),
    });
  }

  function reviewCampaign(id, approve) {
    return review((approve ? "通过" : "驳回") + "商户活动 #" + id, `/api/admin/v1/campaigns/${id}/review`, approve,
      approve ? "通过后活动按其时间生效，优惠由商户承担。" : "驳回原因会展示给商户，商户修改后可重新提交。");
  }

  function endCampaign(id) {
    return W.act({
      title: "结束活动 #" + id, confirm: "结束", danger: true, done: "活动已结束",
      message: "活动立即停止，已下的订单保持活动价；结束后不能恢复。确定结束？",
      action: () => api("POST", `/api/admin/v1/campaigns/${id}/end`),
    });
  }

  function endable(c) { return c.status !== "ended" && c.state !== "ended"; }

  async function renderList(view, params) {
    const filters = W.filters("campaigns", [
      { name: "owner", label: "发起方", options: [["", "全部"], ...Object.entries(OWNER)] },
      { name: "status", label: "审核状态", options: [["", "全部"], ...Object.entries(STATUS)] },
    ], params);
    const [page, joins] = await Promise.all([
      api("GET", "/api/admin/v1/campaigns" + W.query(params, ["owner", "status", "cursor"])),
      api("GET", "/api/admin/v1/campaign-joins?status=pending&limit=20")]);
    view.innerHTML = joinQueue(joins) + `<div class="card"><h3>营销活动 ${W.button("new", "flash_sale", "新建平台秒杀")} ${W.button("new", "full_reduction", "新建平台满减")} ${W.button("new", "group_buy", "新建平台拼团")}</h3>
      <p class="muted">商户活动由商户出资，审核通过后按时间生效；平台活动由平台出资，商户报名参加。</p>
      ${filters}${table([
        { title: "ID", html: c => `<a href="#/campaigns?id=${c.id}">#${c.id}</a>` },
        { title: "名称", html: c => `<a href="#/campaigns?id=${c.id}">${esc(c.name)}</a>` + (c.description ? `<br><small class="muted">${esc(c.description)}</small>` : "") },
        { title: "类型", value: c => label(KIND, c.kind) },
        { title: "发起方", html: owner },
        { title: "活动时间", html: c => esc(time(c.starts_at)) + "<br>" + esc(time(c.ends_at)) },
        { title: "规则", value: rules },
        { title: "状态", html: c => statusBadge(c) + (c.status === "rejected" && c.reason ? `<br><small class="muted">${esc(c.reason)}</small>` : "") },
        { title: "操作", html: c => [W.button("view", c.id, "查看", "secondary"),
          ...(c.merchant_id && c.status === "pending" ? [W.button("approve", c.id, "通过"), W.button("reject", c.id, "驳回", "danger")] : [])].join(" ") },
      ], page.items)}${W.pager("campaigns", params, page.next_cursor)}</div>`;
    W.bindFilters(view);
    const joinOf = key => joins.items.find(j => j.campaign_id + ":" + j.merchant_id === key);
    W.bindActions(view, {
      new: kind => createCampaign(kind),
      view: id => Console.go("campaigns", { id }),
      approve: id => reviewCampaign(id, true),
      reject: id => reviewCampaign(id, false),
      "queue-approve": key => reviewJoin(joinOf(key), true),
      "queue-reject": key => reviewJoin(joinOf(key), false),
    });
  }

  // The pending joins of every platform campaign, newest first: the operators' review queue.
  function joinQueue(joins) {
    if (!joins.items.length) return "";
    return `<div class="card"><h3>待审核报名 <small class="muted">商户报名平台活动，通过后按活动时间参加</small></h3>${table([
      { title: "活动", html: j => `<a href="#/campaigns?id=${j.campaign_id}">#${j.campaign_id} ${esc(j.campaign_name)}</a> ` + W.badge(label(KIND, j.campaign_kind)) },
      { title: "商户", value: j => j.merchant_name || "商户 #" + j.merchant_id },
      { title: "报名时间", value: j => time(j.created_at) },
      { title: "操作", html: j => [W.button("queue-approve", j.campaign_id + ":" + j.merchant_id, "通过"),
        W.button("queue-reject", j.campaign_id + ":" + j.merchant_id, "驳回", "danger")].join(" ") },
    ], joins.items)}${joins.next_cursor ? `<p class="muted">仅显示最新 20 条，其余请在活动详情中审核。</p>` : ""}</div>`;
  }

  function reviewJoin(join, approve) {
    const who = join.merchant_name || "商户 #" + join.merchant_id;
    return review((approve ? "通过 " : "驳回 ") + who + " 的报名", `/api/admin/v1/campaigns/${join.campaign_id}/participants/${join.merchant_id}/review`, approve,
      approve ? "通过后该商户按活动时间参加「" + join.campaign_name + "」，优惠由平台承担。" : "驳回原因会展示给商户，商户可修改后重新报名。");
  }

  function effectSection(c, e) {
    const kpi = (title, value, note) => `<div class="card kpi">${esc(title)}<b>${esc(value)}</b>${note ? `<span class="muted">${esc(note)}</span>` : ""}</div>`;
    const budget = c.merchant_id ? "" : kpi("预算", e.budget_fen ? fen(e.budget_fen) : "未设置",
      e.budget_fen ? "已占用 " + fen(e.budget_used_fen) + "，剩余 " + fen(e.budget_left_fen) : "");
    return `<h2>活动效果 <small class="muted">已支付且未全额退款的订单；销售额按活动价计</small></h2><div class="kpis">
      ${kpi("购买人数", e.participants)}${kpi("订单数", e.orders)}${c.kind === "flash_sale" ? kpi("秒杀件数", e.units) : ""}
      ${kpi("活动销售额", fen(e.sales_fen))}${kpi("优惠金额", fen(e.discount_fen))}${budget}
      ${e.shares ? kpi("分享带来新用户", e.shares.new_consumers, "其中 " + e.shares.converted + " 人已下单") : ""}</div>
      ${e.groups ? `<div class="kpis">${kpi("开团数", e.groups.started)}${kpi("已成团", e.groups.succeeded)}${kpi("拼团中", e.groups.open)}
      ${kpi("未成团", e.groups.failed, "自动退款 " + e.groups.refunds + " 笔，已退 " + fen(e.groups.refunded_fen))}</div>` : ""}`;
  }

  let industries = null;
  async function industryOptions() {
    if (!industries) industries = (await api("GET", "/api/v1/industries")).items;
    return industries.map(i => [i.code, i.name]);
  }

  function audienceText(segment) {
    const parts = [];
    const names = Object.fromEntries((industries || []).map(i => [i.code, i.name]));
    if (segment.industries) parts.push("行业：" + segment.industries.map(code => label(names, code)).join("、"));
    if (segment.active_within_days) parts.push(segment.active_within_days + " 天内到店");
    if (segment.registered_within_days) parts.push(segment.registered_within_days + " 天内注册");
    return parts.length ? parts.join("；") : "全部用户";
  }

  async function promoteCampaign(c) {
    const options = await industryOptions();
    W.act({ title: "推送推广：" + c.name, confirm: "推送", done: "已开始推送",
      message: "推送给选定人群中未关闭平台推广的用户（小程序订阅消息或公众号模板消息），分批发送；每天最多推送若干次，记入审计日志。",
      fields: [{ name: "title", label: "标题（≤32 字）", required: true },
               { name: "content", label: "内容（≤200 字）", type: "textarea", required: true },
               { name: "industries", label: "行业会员（不选为全部用户）", type: "checks", options, value: [] },
               { name: "active_within_days", label: "近 N 天到店（可空）", type: "number" },
               { name: "registered_within_days", label: "近 N 天注册（可空）", type: "number" }],
      action: v => {
        const segment = {};
        if (v.industries && v.industries.length) segment.industries = v.industries;
        if (v.active_within_days) segment.active_within_days = v.active_within_days;
        if (v.registered_within_days) segment.registered_within_days = v.registered_within_days;
        return api("POST", `/api/admin/v1/campaigns/${c.id}/promotions`, { title: v.title, content: v.content, segment });
      } });
  }

  async function renderDetail(view, id) {
    const [c, e] = await Promise.all([
      api("GET", `/api/admin/v1/campaigns/${encodeURIComponent(id)}`),
      api("GET", `/api/admin/v1/campaigns/${encodeURIComponent(id)}/effect`),
    ]);
    const groups = c.kind === "group_buy"
      ? await api("GET", `/api/admin/v1/campaigns/${encodeURIComponent(id)}/groups?limit=50`) : null;
    const promotable = c.status === "approved" && new Date(c.ends_at) > new Date();
    const promotions = c.status === "approved"
      ? await api("GET", `/api/admin/v1/campaigns/${encodeURIComponent(id)}/promotions?limit=20`) : null;
    if (promotions && promotions.items.length) await industryOptions();
    const platform = !c.merchant_id;
    const actions = [
      ...(promotable ? [W.button("promote", c.id, "推送推广")] : []),
      ...(platform && c.status !== "ended" ? [W.button("edit", c.id, "修改", "secondary")] : []),
      ...(!platform && c.status === "pending" ? [W.button("approve", c.id, "通过"), W.button("reject", c.id, "驳回", "danger")] : []),
      ...(endable(c) ? [W.button("end", c.id, "结束活动", "danger")] : []),
    ].join(" ");
    const names = Object.fromEntries((c.participants || []).map(p => [p.merchant_id, p.merchant_name]));
    const joins = Object.fromEntries((c.participants || []).map(p => [p.merchant_id, p.status]));
    const row = (title, html) => `<dt>${esc(title)}</dt><dd>${html}</dd>`;
    view.innerHTML = `<p><a href="#/campaigns">« 返回活动列表</a></p>
      <div class="card"><h3>${esc(c.name)} <span class="muted">#${c.id}</span> ${W.badge(label(KIND, c.kind))} ${statusBadge(c)} ${actions}</h3>
      <dl class="grid">
        ${row("发起方", owner(c) + (platform ? "（平台出资）" : "（商户出资）"))}${row("审核状态", esc(label(STATUS, c.status)))}
        ${row("开始时间", esc(time(c.starts_at)))}${row("结束时间", esc(time(c.ends_at)))}
        ${row(c.kind === "full_reduction" ? "满减档位" : c.kind === "group_buy" ? "拼团规则" : "限购", esc(rules(c)))}${row(platform ? "商户报名" : "审核时间", platform ? (c.join_requires_approval ? "需审核" : "无需审核") : esc(time(c.reviewed_at)))}
        ${platform ? row("预算", c.budget_fen ? esc(fen(c.budget_fen) + "（已占用 " + fen(c.budget_used_fen) + "，剩余 " + fen(c.budget_left_fen) + "）") : "未设置") : ""}${row(c.status === "rejected" ? "驳回原因" : "审核意见", esc(c.reason || "—"))}
        ${row("创建时间", esc(time(c.created_at)))}${row("更新时间", esc(time(c.updated_at)))}
        ${row("活动说明", esc(c.description || "—"))}
      </dl></div>
      ${effectSection(c, e)}
      <div class="card"><h3>${platform ? "报名商户" : "参与商户"}</h3>${table([
        { title: "商户", html: p => `<a href="#/merchants?id=${p.merchant_id}">${esc(p.merchant_name || "商户 #" + p.merchant_id)}</a>` },
        { title: "状态", html: p => W.badge(label(JOIN, p.status), JOIN_TONE[p.status]) },
        { title: "审核意见", value: p => p.reason || "—" },
        { title: "报名时间", value: p => time(p.created_at) },
        { title: "审核时间", value: p => time(p.reviewed_at) },
        { title: "操作", html: p => platform && p.status === "pending" ? [W.button("join-approve", p.merchant_id, "通过"), W.button("join-reject", p.merchant_id, "驳回", "danger")].join(" ") : "" },
      ], c.participants || [])}</div>
      ${ITEMS[c.kind] ? `<div class="card"><h3>${ITEMS[c.kind]}商品</h3>${table([
        { title: "商品", html: i => esc(i.name) + ` <small class="muted">#${i.item_id}</small>` },
        { title: "商户", html: i => esc(names[i.merchant_id] || "商户 #" + i.merchant_id) + " " + W.badge(label(JOIN, joins[i.merchant_id]), JOIN_TONE[joins[i.merchant_id]]) },
        { title: "原价", value: i => fen(i.price_fen) },
        { title: ITEMS[c.kind] + "价", value: i => fen(i.campaign_price_fen) },
        { title: "活动库存", value: i => i.stock_total === null || i.stock_total === undefined ? "按商品库存" : i.stock_total },
        { title: "剩余", value: i => i.remaining_stock },
        { title: "已售", value: i => i.sold },
      ], c.items || [])}</div>` : ""}
      ${groups ? `<div class="card"><h3>拼团 <small class="muted">最近 50 个</small></h3>${table([
        { title: "团", value: g => "#" + g.id },
        { title: "商品", html: g => esc(g.item_name) + " " + W.badge(names[g.merchant_id] || "商户 #" + g.merchant_id) },
        { title: "人数", value: g => g.joined + " / " + g.group_size + "（已付 " + g.paid + "）" },
        { title: "状态", html: g => W.badge(label(GROUP, g.status), GROUP_TONE[g.status]) },
        { title: "开团时间", value: g => time(g.created_at) },
        { title: "截止时间", value: g => time(g.deadline) },
      ], groups.items)}</div>` : ""}
      ${promotions && promotions.items.length ? `<div class="card"><h3>推送推广 <small class="muted">最近 20 次</small></h3>${table([
        { title: "标题", html: p => esc(p.title) + `<br><small class="muted">${esc(p.content)}</small>` },
        { title: "人群", value: p => audienceText(p.segment) },
        { title: "已推送", value: p => p.recipients + " 人" },
        { title: "状态", html: p => W.badge(p.status === "done" ? "已完成" : "推送中", p.status === "done" ? "" : "warn") },
        { title: "发起时间", value: p => time(p.created_at) },
      ], promotions.items)}</div>` : ""}`;
    W.bindActions(view, {
      promote: () => promoteCampaign(c),
      edit: () => editCampaign(c),
      approve: cid => reviewCampaign(cid, true),
      reject: cid => reviewCampaign(cid, false),
      end: cid => endCampaign(cid),
      "join-approve": mid => review("通过 " + (names[mid] || "商户 #" + mid) + " 的报名", `/api/admin/v1/campaigns/${c.id}/participants/${mid}/review`, true,
        "通过后该商户的" + (ITEMS[c.kind] ? ITEMS[c.kind] + "商品" : "商品") + "按活动时间参加，优惠由平台承担。"),
      "join-reject": mid => review("驳回 " + (names[mid] || "商户 #" + mid) + " 的报名", `/api/admin/v1/campaigns/${c.id}/participants/${mid}/review`, false,
        "驳回原因会展示给商户，商户可修改后重新报名。"),
    });
  }

  Console.register({
    id: "campaigns", title: "营销活动", permission: "admin:campaigns",
    render(view, params) { return params.get("id") ? renderDetail(view, params.get("id")) : renderList(view, params); },
  });
})();
