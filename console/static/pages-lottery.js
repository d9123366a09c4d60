// 积分抽奖: points lotteries run by the platform. The list; creating a draft and changing it in
// whole (an active lottery only its title, description and end); putting it live and ending
// it; one lottery's results (draws, people, points taken and given, per prize how often it
// was picked and given), its prizes' stock added or taken, and its latest draws.
"use strict";
(() => {
  const { esc, time, label, table, api } = Console;
  const W = Widgets;
  const STATE = { draft: "草稿", upcoming: "未开始", running: "进行中", ended: "已结束" };
  const TONE = { draft: "warn", running: "ok" };
  const STATUS = { draft: "草稿", active: "已上线", ended: "已结束" };
  const KIND = { coupon: "优惠券", points: "积分", none: "谢谢参与" };
  const MAX_PRIZES = 12;

  // Prizes are typed one a line, in the order shown to consumers:
  //   优惠券 12 权重 5 库存 20        (12: a platform coupon's ID; the stock is required)
  //   积分 100 权重 10 库存 50        (no 库存: unlimited)
  //   谢谢参与 权重 85
  // and each may end with "名称 …". Sent in the order typed, so `prizes[i]` names the i-th line.
  const LINE = /^(优惠券|积分|谢谢参与)\s*(\d+)?\s*权重\s*(\d+)(?:\s*库存\s*(\d+))?(?:\s*名称\s*(.+))?$/;
  const KIND_OF = { "优惠券": "coupon", "积分": "points", "谢谢参与": "none" };

  function parsePrizes(text) {
    const lines = String(text || "").split(/\n/).map(s => s.trim()).filter(Boolean);
    const fail = (message) => { const e = new Error(message); e.details = { field: "prizes" }; throw e; };
    if (lines.length < 2 || lines.length > MAX_PRIZES) fail("奖品须为 2 到 " + MAX_PRIZES + " 个（每行一个）");
    return lines.map((line, i) => {
      const m = LINE.exec(line);
      if (!m) fail("第 " + (i + 1) + " 行格式应为“积分 100 权重 10 库存 50”、“优惠券 12 权重 5 库存 20”或“谢谢参与 权重 85”");
      const kind = KIND_OF[m[1]];
      const prize = { kind, weight: Number(m[3]) };
      if (kind !== "none" && !m[2]) fail("第 " + (i + 1) + " 行缺少" + (kind === "coupon" ? "优惠券 ID" : "积分数"));
      if (kind === "coupon") prize.coupon_template_id = Number(m[2]);
      if (kind === "points") prize.points = Number(m[2]);
      if (m[4] !== undefined) prize.stock = Number(m[4]);
      if (m[5]) prize.name = m[5].trim();
      return prize;
    });
  }

  function prizeLine(p) {
    const value = p.kind === "coupon" ? " " + p.coupon_template_id : p.kind === "points" ? " " + p.points : "";
    const stock = p.stock_total === null || p.stock_total === undefined ? "" : " 库存 " + p.stock_left;
    const defaultName = p.kind === "none" ? "谢谢参与" : p.kind === "points" ? p.points + " 积分" : p.coupon_template_name;
    return KIND[p.kind] + value + " 权重 " + p.weight + stock + (p.name !== defaultName ? " 名称 " + p.name : "");
  }

  // A field-named 400 about one prize (`prizes[1].weight`) marks the prizes box and says which line.
  async function naming(promise) {
    try { return await promise; } catch (e) {
      const field = e.details && e.details.field;
      const line = field && /^prizes\[(\d+)\]/.exec(field);
      if (line) { e.message = "第 " + (Number(line[1]) + 1) + " 行奖品：" + e.message; e.details.field = "prizes"; }
      throw e;
    }
  }

  function shanghaiInput(ms) { return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16); }

  function limits(l) {
    const parts = [];
    if (l.daily_limit) parts.push("每人每天 " + l.daily_limit + " 次");
    if (l.total_limit) parts.push("每人共 " + l.total_limit + " 次");
    return parts.join("，") || "不限次数";
  }

  async function couponHint() {
    const page = await api("GET", "/api/admin/v1/coupon-templates?status=active&limit=20");
    const names = page.items.map(t => "#" + t.id + " " + t.name + "（剩 " + t.remaining + "）");
    return names.length ? "可用的平台优惠券：" + names.join("、") : "暂无发放中的平台优惠券（可在“平台优惠券”页创建）";
  }

  async function fields(l) {
    const hour = 3600 * 1000;
    const start = Math.ceil(Date.now() / hour) * hour;
    const hint = await couponHint();
    return [
      { name: "title", label: "活动标题", required: true, value: l && l.title },
      { name: "description", label: "活动说明", type: "textarea", value: l && l.description },
      { name: "points_cost", label: "每次抽奖消耗积分", type: "number", required: true, value: l ? l.points_cost : 10 },
      { name: "starts_at", label: "开始时间", type: "datetime", required: true, value: l ? l.starts_at : shanghaiInput(start) },
      { name: "ends_at", label: "结束时间", type: "datetime", required: true, value: l ? l.ends_at : shanghaiInput(start + 7 * 24 * hour), hint: "最长 366 天" },
      { name: "daily_limit", label: "每人每天可抽次数", type: "number", value: l && l.daily_limit, hint: "按北京时间计；留空为不限" },
      { name: "total_limit", label: "每人总共可抽次数", type: "number", value: l && l.total_limit, hint: "留空为不限" },
      { name: "prizes", label: "奖品（每行一个）", type: "textarea", required: true,
        value: l ? l.prizes.map(prizeLine).join("\n") : "积分 100 权重 10 库存 50\n谢谢参与 权重 90",
        hint: "中奖概率 = 权重 ÷ 权重之和；须有且只有一个“谢谢参与”，奖品抽完后按“谢谢参与”发放。" + hint },
    ];
  }

  // The limits are sent as null when cleared (a draft's change keeps what is not sent).
  function body(v) {
    return { ...v, description: v.description || "", daily_limit: v.daily_limit ?? null, total_limit: v.total_limit ?? null, prizes: parsePrizes(v.prizes) };
  }

  async function createLottery() {
    const created = await W.dialog({
      title: "新建积分抽奖", confirm: "创建草稿", fields: await fields(null),
      message: "创建后为草稿，确认无误后上线；上线后奖品和概率不能再改，只能调整库存。",
      submit: v => naming(Console.create("/api/admin/v1/lotteries", body(v))),
    });
    if (created) { Console.notice("抽奖已创建"); Console.go("lottery", { id: created.id }); }
  }

  async function editLottery(l) {
    if (l.status === "draft") {
      return W.act({ title: "修改抽奖 #" + l.id, confirm: "保存", done: "已保存", fields: await fields(l),
        action: v => naming(api("PATCH", `/api/admin/v1/lotteries/${l.id}`, body(v))) });
    }
    return W.act({
      title: "修改抽奖 #" + l.id, confirm: "保存", done: "已保存",
      message: "抽奖已上线：只能修改标题、说明和结束时间。",
      fields: [{ name: "title", label: "活动标题", required: true, value: l.title },
        { name: "description", label: "活动说明", type: "textarea", value: l.description },
        { name: "ends_at", label: "结束时间", type: "datetime", required: true, value: l.ends_at }],
      action: v => api("PATCH", `/api/admin/v1/lotteries/${l.id}`, { ...v, description: v.description || "" }),
    });
  }

  function activate(id) {
    return W.act({ title: "上线抽奖 #" + id, confirm: "上线", done: "抽奖已上线",
      message: "上线后消费者可在开始时间后参与抽奖；奖品、权重和消耗积分不能再修改。确定上线？",
      action: () => api("POST", `/api/admin/v1/lotteries/${id}/activate`) });
  }

  function end(id) {
    return W.act({ title: "结束抽奖 #" + id, confirm: "结束", danger: true, done: "抽奖已结束",
      message: "结束后消费者不能再抽奖，已发放的奖品不受影响；结束后不能恢复。确定结束？",
      action: () => api("POST", `/api/admin/v1/lotteries/${id}/end`) });
  }

  function restock(l, p) {
    return W.act({ title: "调整库存：" + p.name, confirm: "调整", done: "库存已调整",
      message: "当前剩余 " + p.stock_left + " / 总量 " + p.stock_total + "。填正数为增加，负数为减少（不能少于剩余）。",
      fields: [{ name: "delta", label: "调整数量", type: "number", required: true }],
      action: v => api("POST", `/api/admin/v1/lotteries/${l.id}/prizes/${p.id}/stock`, v) });
  }

  function actions(l) {
    return [
      ...(l.status !== "ended" ? [W.button("edit", l.id, "修改", "secondary")] : []),
      ...(l.status === "draft" ? [W.button("activate", l.id, "上线")] : []),
      ...(l.status !== "ended" ? [W.button("end", l.id, "结束", "danger")] : []),
    ].join(" ");
  }

  async function renderList(view, params) {
    const filters = W.filters("lottery", [
      { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
    ], params);
    const page = await api("GET", "/api/admin/v1/lotteries" + W.query(params, ["status", "cursor"]));
    view.innerHTML = `<div class="card"><h3>积分抽奖 ${W.button("new", "", "新建抽奖")}</h3>
      <p class="muted">消费者消耗积分抽奖，奖品为平台优惠券、积分或“谢谢参与”，由平台出资。</p>
      ${filters}${table([
        { title: "ID", html: l => `<a href="#/lottery?id=${l.id}">#${l.id}</a>` },
        { title: "标题", html: l => `<a href="#/lottery?id=${l.id}">${esc(l.title)}</a>` + (l.description ? `<br><small class="muted">${esc(l.description)}</small>` : "") },
        { title: "每次消耗", value: l => l.points_cost + " 积分" },
        { title: "活动时间", html: l => esc(time(l.starts_at)) + "<br>" + esc(time(l.ends_at)) },
        { title: "次数限制", value: limits },
        { title: "状态", html: l => W.badge(label(STATE, l.state), TONE[l.state]) },
        { title: "抽奖次数 / 消耗积分", value: l => l.draws + " / " + l.points_taken },
        { title: "操作", html: l => [W.button("view", l.id, "查看", "secondary"), actions(l)].join(" ") },
      ], page.items)}${W.pager("lottery", params, page.next_cursor)}</div>`;
    W.bindFilters(view);
    W.bindActions(view, {
      new: () => createLottery(),
      view: id => Console.go("lottery", { id }),
      edit: async id => editLottery(await api("GET", `/api/admin/v1/lotteries/${id}`)),
      activate, end,
    });
  }

  async function renderDetail(view, params) {
    const id = encodeURIComponent(params.get("id"));
    const [l, draws] = await Promise.all([
      api("GET", `/api/admin/v1/lotteries/${id}`),
      api("GET", `/api/admin/v1/lotteries/${id}/draws` + W.query(params, ["cursor"], { limit: 50 })),
    ]);
    const names = Object.fromEntries(l.prizes.map(p => [p.id, p.name]));
    const kpi = (title, value) => `<div class="card kpi">${esc(title)}<b>${esc(value)}</b></div>`;
    const row = (title, html) => `<dt>${esc(title)}</dt><dd>${html}</dd>`;
    view.innerHTML = `<p><a href="#/lottery">« 返回抽奖列表</a></p>
      <div class="card"><h3>${esc(l.title)} <span class="muted">#${l.id}</span> ${W.badge(label(STATE, l.state), TONE[l.state])} ${actions(l)}</h3>
      <dl class="grid">
        ${row("每次消耗", esc(l.points_cost + " 积分"))}${row("次数限制", esc(limits(l)))}
        ${row("开始时间", esc(time(l.starts_at)))}${row("结束时间", esc(time(l.ends_at)))}
        ${row("上线时间", esc(time(l.activated_at)))}${row("结束于", esc(time(l.ended_at)))}
        ${row("创建时间", esc(time(l.created_at)))}${row("更新时间", esc(time(l.updated_at)))}
        ${row("活动说明", esc(l.description || "—"))}
      </dl></div>
      <h2>抽奖结果</h2><div class="kpis">${kpi("抽奖次数", l.draws)}${kpi("参与人数", l.entrants)}${kpi("消耗积分", l.points_taken)}
      ${kpi("发放积分", l.points_awarded)}${kpi("发放优惠券", l.coupons_awarded)}</div>
      <div class="card"><h3>奖品 <small class="muted">抽中但库存已空（或用户已达优惠券限领）时按“谢谢参与”发放</small></h3>${table([
        { title: "奖品", html: p => esc(p.name) + (p.kind === "coupon" ? ` <small class="muted">优惠券 #${p.coupon_template_id}</small>` : "") },
        { title: "类型", value: p => label(KIND, p.kind) },
        { title: "权重", value: p => p.weight },
        { title: "概率", value: p => (p.probability * 100).toFixed(2) + "%" },
        { title: "剩余 / 总量", value: p => p.stock_total === null ? "不限" : p.stock_left + " / " + p.stock_total },
        { title: "抽中", value: p => p.picked },
        { title: "发放", value: p => p.awarded },
        { title: "操作", html: p => p.stock_total !== null && l.status !== "ended" ? W.button("restock", p.id, "调整库存", "secondary") : "" },
      ], l.prizes)}</div>
      <div class="card"><h3>抽奖记录 <small class="muted">最新在前</small></h3>${table([
        { title: "时间", value: d => time(d.created_at) },
        { title: "用户", html: d => `<a href="#/users?id=${d.user_id}">#${d.user_id}</a>` },
        { title: "发放", html: d => esc(d.prize_name) + (d.fell_back ? ` <small class="muted">（抽中 ${esc(names[d.picked_prize_id] || "#" + d.picked_prize_id)}，未能发放）</small>` : "") },
        { title: "消耗积分", value: d => d.points_cost },
      ], draws.items)}${W.pager("lottery", params, draws.next_cursor)}</div>`;
    const prize = pid => l.prizes.find(p => String(p.id) === pid);
    W.bindActions(view, { edit: () => editLottery(l), activate, end, restock: pid => restock(l, prize(pid)) });
  }

  Console.register({
    id: "lottery", title: "积分抽奖", permission: "admin:campaigns",
    render(view, params) { return params.get("id") ? renderDetail(view, params) : renderList(view, params); },
  });
})();
