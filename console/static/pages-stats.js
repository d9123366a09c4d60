// 数据统计: merchants by industry and status, sales ranking, order trends; 热门商品: the items
// with most units paid in the last 7 or 30 days and their move since the period before.
// Inline-SVG charts.
"use strict";
(() => {
  const { esc, fen, table, api } = Console;
  const W = Widgets;
  const M_STATUS = { pending: "待审核", approved: "已通过", rejected: "已驳回", suspended: "已暂停" };
  const yuan = v => "¥" + (v / 100).toLocaleString("zh-CN", { maximumFractionDigits: 2 });

  function card(title, body, wide) { return `<div class="card chart-card${wide ? " wide" : ""}"><h3>${esc(title)}</h3>${body}</div>`; }

  async function merchantSection() {
    const s = await api("GET", "/api/admin/v1/merchant-stats?ranking_limit=10");
    const statuses = Object.keys(M_STATUS);
    const ranking = s.sales_ranking;
    return `<h2>商户</h2><div class="kpis">${[["商户总数", s.total], ...s.by_status.map(x => [M_STATUS[x.status] || x.status, x.count])]
      .map(([k, v]) => `<div class="card kpi">${esc(k)}<b>${esc(v)}</b></div>`).join("")}</div>
      <div class="charts">
      ${card("行业分布", Charts.pie({ items: s.by_industry.map(i => ({ label: i.industry_name, value: i.count })), format: v => v + " 家" }))}
      ${card("各行业商户状态", Charts.bar({ labels: s.by_industry.map(i => i.industry_name), stacked: true,
        series: statuses.map(st => ({ name: M_STATUS[st], values: s.by_industry.map(i => i.by_status[st] || 0) })) }))}
      ${card("销售排行（销售额）", Charts.bar({ labels: ranking.map(r => r.name), series: [{ name: "销售额", values: ranking.map(r => r.sales_fen) }], format: yuan, floor: 10000, height: 220, width: 760 }) +
        table([{ title: "名次", value: r => r.rank }, { title: "商户", html: r => `<a href="#/merchants?id=${r.merchant_id}">${esc(r.name)}</a>` },
          { title: "销售额", value: r => fen(r.sales_fen) }, { title: "订单数", value: r => r.sales_count }], ranking), true)}
      </div>`;
  }

  async function orderSection(params) {
    const s = await api("GET", "/api/admin/v1/order-stats" + W.query(params, ["from", "to"]));
    const labels = s.days.map(d => d.date.slice(5));
    const statuses = Object.entries(s.by_status || {});
    return `<h2>订单（${esc(s.from)} 至 ${esc(s.to)}）</h2>
      ${W.filters("stats", [{ name: "from", label: "从", type: "date", value: s.from }, { name: "to", label: "到", type: "date", value: s.to }], params)}
      <div class="kpis">${[["下单数", s.totals.created], ["支付数", s.totals.paid], ["支付金额", fen(s.totals.paid_fen)], ["退款金额", fen(s.totals.refunded_fen)],
        ["待处理异常", `<a href="#/orders?abnormal=true">${esc(s.abnormal_open)}</a>`]]
        .map(([k, v]) => `<div class="card kpi">${esc(k)}<b>${typeof v === "string" && v.startsWith("<a") ? v : esc(v)}</b></div>`).join("")}</div>
      <div class="charts">
      ${card("每日订单数", Charts.line({ labels, series: [{ name: "下单", values: s.days.map(d => d.created) }, { name: "支付", values: s.days.map(d => d.paid) }] }))}
      ${card("每日金额", Charts.line({ labels, format: yuan, floor: 10000, series: [{ name: "支付金额", values: s.days.map(d => d.paid_fen) }, { name: "退款金额", values: s.days.map(d => d.refunded_fen) }] }))}
      ${card("订单状态构成", Charts.pie({ items: statuses.map(([k, v]) => ({ label: OrderLabels.STATUS[k] || k, value: v })), format: v => v + " 单" }))}
      ${card("每日支付金额", Charts.bar({ labels, series: [{ name: "支付金额", values: s.days.map(d => d.paid_fen) }], format: yuan, floor: 10000 }))}
      </div>`;
  }

  const KINDS = { goods: "商品", service: "服务" };
  const ITEM_STATUS = { on_shelf: "在售", off_shelf: "已下架", taken_down: "已下架（平台）", pending_review: "待审核", draft: "草稿", rejected: "已驳回" };

  // Rank change: ↑ moved up, ↓ down, 新上榜 unsold in the period before.
  function move(row) {
    if (row.rank_change === null) return "新上榜";
    if (row.rank_change > 0) return "↑ " + row.rank_change;
    return row.rank_change < 0 ? "↓ " + (-row.rank_change) : "持平";
  }

  async function hotSection(params) {
    const industries = (await api("GET", "/api/v1/industries")).items;
    const r = await api("GET", "/api/admin/v1/hot-items" + W.query(params, ["days", "industry"], { limit: 20 }));
    const top = r.items.slice(0, 10);
    return `<h2>热门商品（近 ${esc(r.days)} 天，${esc(Console.time(r.from))} 至 ${esc(Console.time(r.to))}）</h2>
      ${W.filters("hot-items", [{ name: "days", label: "周期", options: [["7", "近 7 天"], ["30", "近 30 天"]] },
        { name: "industry", label: "行业", options: [["", "全部"], ...industries.map(i => [i.code, i.name])] }], params)}
      <div class="charts">
      ${card("销量前十（件）", Charts.bar({ labels: top.map(x => x.name || ("#" + x.item_id)), series: [{ name: "销量", values: top.map(x => x.units) }], format: v => v + " 件", height: 240, width: 760 }) +
        table([{ title: "名次", value: x => x.rank }, { title: "变化", value: move }, { title: "商品", value: x => x.name || ("#" + x.item_id) },
          { title: "类型", value: x => KINDS[x.kind] || x.kind || "—" }, { title: "状态", value: x => ITEM_STATUS[x.status] || x.status || "—" },
          { title: "商户", html: x => x.merchant ? `<a href="#/merchants?id=${x.merchant.id}">${esc(x.merchant.name)}</a>` : "—" },
          { title: "行业", value: x => x.merchant ? x.merchant.industry_name : "—" },
          { title: "销量", value: x => x.units }, { title: "销售额", value: x => fen(x.sales_fen) }, { title: "订单数", value: x => x.orders }], r.items), true)}
      </div>`;
  }

  Console.register({
    id: "stats", title: "数据统计", permission: "admin:analytics",
    async render(view, params) {
      const parts = [];
      if (Console.can("admin:merchants")) parts.push(await merchantSection());
      if (Console.can("admin:orders")) parts.push(await orderSection(params));
      view.innerHTML = parts.join("") || "<p class=muted>没有可查看的统计。</p>";
      W.bindFilters(view);
    },
  });

  Console.register({
    id: "hot-items", title: "热门商品", permission: "admin:analytics",
    async render(view, params) {
      view.innerHTML = await hotSection(params);
      W.bindFilters(view);
    },
  });
})();
