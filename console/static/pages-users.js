// 消费者管理: the consumer list with search, one consumer's profile and history, and the
// behaviour analysis (registrations, purchase frequency, preferences, region) with charts.
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const STATUS = { active: "正常", disabled: "已停用", deleted: "已注销", merged: "已合并" };
  const TONE = { active: "ok", disabled: "warn", deleted: "bad", merged: "" };
  const CHANNEL = { miniprogram: "小程序", official_account: "公众号", wechat: "微信", phone: "手机号", email: "邮箱" };
  const POINTS_KIND = { earn: "获得", spend: "使用", expire: "过期", adjust: "调整", refund: "退回" };
  const COUPON = { active: "未使用", locked: "下单占用", used: "已使用", redeemed: "已核销", expired: "已过期" };
  const REFERRAL = { bound: "绑定中", converted: "已转化", lapsed: "已过期", organic: "自然到访" };
  const SOURCE = { user: "消费者", merchant: "商户" };
  const C_STATUS = { open: "待处理", resolved: "已解决", dismissed: "已驳回" };
  const AS_STATUS = { requested: "待商家处理", approved: "商家已同意", returned: "已退货", rejected: "商家已拒绝", arbitrating: "待平台仲裁", refunding: "退款中", refunded: "已退款", failed: "退款失败", closed: "已关闭" };
  const yuan = v => "¥" + (v / 100).toLocaleString("zh-CN", { maximumFractionDigits: 2 });

  function tabs(current) {
    const all = [["list", "消费者列表", "#/users"]];
    if (Console.can("admin:analytics")) all.push(["stats", "行为分析", "#/users?view=stats"]);
    return `<div class="toolbar">${all.map(([id, text, href]) => id === current ? `<b>${esc(text)}</b>` : `<a href="${href}">${esc(text)}</a>`).join("　|　")}</div>`;
  }

  // One search box: 11 digits is a phone number, other digits a user id, the rest a nickname prefix.
  function searchQuery(params) {
    const q = new URLSearchParams();
    ["registered_from", "registered_to", "has_ordered", "status", "cursor"].forEach(n => { if (params.get(n)) q.set(n, params.get(n)); });
    const text = (params.get("q") || "").trim();
    const digits = text.replace(/[\s-]/g, "").replace(/^(\+86|0086)/, "");
    if (/^1\d{10}$/.test(digits)) q.set("phone", digits);
    else if (/^\d{1,10}$/.test(digits)) q.set("user_id", digits);
    else if (text) q.set("nickname", text);
    return q.toString() ? "?" + q : "";
  }

  function channels(list) { return (list || []).map(c => label(CHANNEL, c)).join("、") || "—"; }

  function statusBadge(u) {
    return W.badge(label(STATUS, u.status), TONE[u.status]) + (u.merged_into ? `<br><small class="muted">并入 <a href="#/users?id=${u.merged_into}">#${u.merged_into}</a></small>` : "");
  }

  async function renderList(view, params) {
    const filters = W.filters("users", [
      { name: "q", label: "搜索", placeholder: "手机号、昵称或用户ID" },
      { name: "registered_from", label: "注册从", type: "date" },
      { name: "registered_to", label: "到", type: "date" },
      { name: "has_ordered", label: "下单", options: [["", "全部"], ["true", "已下单"], ["false", "未下单"]] },
      { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
    ], params);
    const page = await api("GET", "/api/admin/v1/users" + searchQuery(params));
    view.innerHTML = `${tabs("list")}<div class="card"><h3>消费者管理</h3>${filters}
      <p class="muted">手机号按完整号码精确查找，昵称按开头匹配；个人信息已脱敏。注册日期按北京时间。</p>${table([
      { title: "ID", value: u => u.id },
      { title: "昵称", html: u => `<a href="#/users?id=${u.id}">${esc(u.nickname || "（未设置）")}</a>` },
      { title: "手机 / 邮箱", html: u => esc(u.phone || "—") + (u.email ? `<br><small class="muted">${esc(u.email)}</small>` : "") },
      { title: "登录方式", value: u => channels(u.login_channels) },
      { title: "注册时间", value: u => time(u.registered_at) },
      { title: "支付订单", value: u => u.orders_paid },
      { title: "累计支付", value: u => fen(u.paid_fen) },
      { title: "平台等级", value: u => u.platform_level_name },
      { title: "积分", value: u => u.points_balance },
      { title: "状态", html: statusBadge },
    ], page.items)}${W.pager("users", params, page.next_cursor)}</div>`;
    W.bindFilters(view);
  }

  function dl(pairs) {
    return `<dl class="grid">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
  }

  function orderLink(no) { return `<a href="#/orders?no=${encodeURIComponent(no)}">${esc(no)}</a>`; }

  function referral(r) {
    const by = r.referred_by;
    const who = !by ? "—" : by.referrer_user_id ? `<a href="#/users?id=${by.referrer_user_id}">${esc(by.referrer_nickname || "#" + by.referrer_user_id)}</a>（${esc(label(SOURCE, by.source_kind))}）`
      : by.merchant_id ? `<a href="#/merchants?id=${by.merchant_id}">${esc(by.merchant_name || "#" + by.merchant_id)}</a>（${esc(label(SOURCE, by.source_kind))}）` : "无推荐来源";
    return dl([["推荐来源", who], ["归因状态", esc(by ? label(REFERRAL, by.status) : "—")], ["绑定时间", esc(time(by && by.bound_at))],
      ["转化时间", esc(time(by && by.converted_at))], ["邀请人数", esc(r.invited) + `（已转化 ${esc(r.invited_converted)}）`]]);
  }

  async function renderDetail(view, id) {
    const u = await api("GET", `/api/admin/v1/users/${encodeURIComponent(id)}`);
    const o = u.orders, c = u.coupons;
    const merged = u.merged_from.length ? u.merged_from.map(i => `<a href="#/users?id=${i}">#${i}</a>`).join("、") : "—";
    const complaintsLink = Console.can("admin:complaints") ? ` <a class="small-link" href="#/complaints?status=all">投诉与建议 »</a>` : "";
    view.innerHTML = `<p><a href="#/users">« 返回消费者列表</a></p>
      <div class="card"><h3>${esc(u.nickname || "（未设置昵称）")} <small class="muted">#${u.id}</small> ${statusBadge(u)}</h3>
      ${dl([["手机号", esc(u.phone || "—")], ["邮箱", esc(u.email || "—")], ["登录方式", esc(channels(u.login_channels))],
        ["注册时间", esc(time(u.registered_at))], ["平台等级", esc(u.platform_level_name) + `（成长值 ${esc(u.platform_growth)}${u.next_level_growth ? "，下一级 " + esc(u.next_level_growth) : ""}）`],
        ["积分余额", esc(u.points.balance) + `（累计获得 ${esc(u.points.lifetime_earned)}）`], ["合并的账号", merged]])}</div>
      <div class="kpis">${[["订单总数", o.total], ["支付订单", o.paid], ["累计支付", fen(o.paid_fen)], ["累计退款", fen(o.refunded_fen)],
        ["持有优惠券", c.held], ["已用优惠券", c.used]]
        .map(([k, v]) => `<div class="card kpi">${esc(k)}<b>${esc(v)}</b></div>`).join("")}</div>
      <div class="card"><h3>最近订单</h3>${table([
        { title: "订单号", html: r => orderLink(r.order_no) }, { title: "商户", html: r => `<a href="#/merchants?id=${r.merchant_id}">${esc(r.merchant_name)}</a>` },
        { title: "状态", value: r => label(OrderLabels.STATUS, r.status) }, { title: "应付", value: r => fen(r.payable_fen) },
        { title: "已付", value: r => fen(r.paid_fen) }, { title: "已退", value: r => fen(r.refunded_fen) }, { title: "下单时间", value: r => time(r.created_at) },
      ], o.recent)}</div>
      <div class="card"><h3>商户会员</h3>${table([
        { title: "商户", html: m => `<a href="#/merchants?id=${m.merchant_id}">${esc(m.merchant_name)}</a>` }, { title: "等级", value: m => m.level_name },
        { title: "累计消费", value: m => fen(m.total_spent_fen) }, { title: "到店次数", value: m => m.visits }, { title: "获得积分", value: m => m.points_earned },
        { title: "最近到店", value: m => time(m.last_visit_at) },
      ], u.memberships)}</div>
      <div class="card"><h3>最近积分明细</h3>${table([
        { title: "时间", value: e => time(e.created_at) }, { title: "类型", value: e => label(POINTS_KIND, e.kind) },
        { title: "变动", value: e => (e.amount > 0 ? "+" : "") + e.amount }, { title: "余额", value: e => e.balance_after },
        { title: "商户", value: e => e.merchant_id ? "#" + e.merchant_id : "平台" }, { title: "说明", value: e => e.memo || "—" },
      ], u.points.recent)}</div>
      <div class="card"><h3>优惠券（共 ${esc(c.total)} 张）</h3><p>${Object.entries(c.by_status).map(([s, n]) => esc(label(COUPON, s)) + " " + esc(n)).join("，") || "暂无优惠券"}</p></div>
      <div class="card"><h3>投诉（共 ${esc(u.complaints.total)} 条，显示最近 ${u.complaints.items.length} 条）${complaintsLink}</h3>${table([
        { title: "ID", value: x => x.id }, { title: "商户", html: x => `<a href="#/merchants?id=${x.merchant_id}">#${x.merchant_id}</a>` },
        { title: "内容", value: x => x.content }, { title: "状态", value: x => label(C_STATUS, x.status) },
        { title: "处理结果", value: x => x.resolution || "—" }, { title: "时间", value: x => time(x.created_at) },
      ], u.complaints.items)}</div>
      <div class="card"><h3>售后（共 ${esc(u.after_sales.total)} 条，显示最近 ${u.after_sales.items.length} 条）</h3>${table([
        { title: "ID", value: x => x.id }, { title: "订单", html: x => orderLink(x.order_no) }, { title: "金额", value: x => fen(x.amount_fen) },
        { title: "理由", value: x => x.reason }, { title: "状态", value: x => label(AS_STATUS, x.status) }, { title: "时间", value: x => time(x.created_at) },
      ], u.after_sales.items)}</div>
      <div class="card"><h3>推荐关系</h3>${referral(u.referral)}</div>`;
  }

  function card(title, body, wide) { return `<div class="card chart-card${wide ? " wide" : ""}"><h3>${esc(title)}</h3>${body}</div>`; }

  function statsHeader(params, title, from, to, problem) {
    return `${tabs("stats")}<div class="card"><h3>${esc(title)}</h3>
      ${W.filters("users", [{ name: "view", label: "", type: "hidden", value: "stats" }, { name: "from", label: "从", type: "date", value: from }, { name: "to", label: "到", type: "date", value: to }], params)}
      ${problem ? `<p class="error">${esc(problem)}</p>` : ""}<p class="muted">日期按北京时间，最长 92 天。购买指该期间内完成支付的订单（含之后退款的）。</p></div>`;
  }

  function bindStatsFilters(view) {
    W.bindFilters(view);
    view.querySelector('[data-role="reset"]').onclick = () => Console.go("users", { view: "stats" });
  }

  async function renderStats(view, params) {
    let s;
    try {
      s = await api("GET", "/api/admin/v1/user-stats" + W.query(params, ["from", "to"]));
    } catch (e) {
      if (e.code !== "VALIDATION_FAILED") throw e;
      // A bad period keeps the filter bar, so the operator can correct it in place.
      view.innerHTML = statsHeader(params, "消费者行为分析", "", "", e.message + (e.details.max_days ? `（最长 ${e.details.max_days} 天）` : ""));
      return bindStatsFilters(view);
    }
    const t = s.totals;
    const labels = s.days.map(d => d.date.slice(5));
    const basis = s.region_basis;
    view.innerHTML = `${statsHeader(params, `消费者行为分析（${s.from} 至 ${s.to}）`, s.from, s.to)}
      <div class="kpis">${[["新注册", t.registrations], ["购买人数", t.buyers], ["支付订单", t.orders], ["支付金额", fen(t.paid_fen)],
        ["人均订单", t.orders_per_buyer], ["复购人数", t.repeat_buyers], ["复购率", (t.repeat_rate * 100).toFixed(1) + "%"]]
        .map(([k, v]) => `<div class="card kpi">${esc(k)}<b>${esc(v)}</b></div>`).join("")}</div>
      <div class="charts">
      ${card("每日新注册与购买人数", Charts.line({ labels, series: [{ name: "新注册", values: s.days.map(d => d.registrations) }, { name: "购买人数", values: s.days.map(d => d.buyers) }] }))}
      ${card("购买频次分布（人数）", Charts.bar({ labels: s.frequency.map(f => f.label), series: [{ name: "人数", values: s.frequency.map(f => f.buyers) }], format: v => Math.round(v) + " 人" }))}
      ${card("行业偏好（支付金额）", Charts.pie({ items: s.industries.map(i => ({ label: i.industry_name, value: i.paid_fen })), format: yuan }))}
      ${card("行业偏好（订单数）", Charts.bar({ labels: s.industries.map(i => i.industry_name), series: [{ name: "订单数", values: s.industries.map(i => i.orders) }] }))}
      ${card("地域分布（订单数）", Charts.pie({ items: s.regions.map(r => ({ label: r.province, value: r.orders })), format: v => v + " 单" }))}
      ${card("地域明细", table([{ title: "省份", value: r => r.province }, { title: "订单数", value: r => r.orders }, { title: "支付金额", value: r => fen(r.paid_fen) }], s.regions) +
        `<p class="muted">省份取自订单收货地址开头；无收货地址的订单（如服务类）按商户首个门店地址；地址不以省份开头的计为“未知”。本期按收货地址 ${esc(basis.delivery_address)} 单，按门店 ${esc(basis.shop)} 单，未知 ${esc(basis.unknown)} 单。</p>`)}
      </div>`;
    bindStatsFilters(view);
  }

  Console.register({
    id: "users", title: "消费者管理", permission: "admin:consumers",
    render(view, params) {
      if (params.get("id")) return renderDetail(view, params.get("id"));
      if (params.get("view") === "stats" && Console.can("admin:analytics")) return renderStats(view, params);
      return renderList(view, params);
    },
  });
})();
