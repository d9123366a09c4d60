// 概览: system state and what waits for the signed-in operator.
"use strict";
(() => {
  const { esc, api } = Console;
  // What waits for an operator: [permission, title, list path, link].
  const TODO = [
    ["admin:merchants", "待审核商户", "/api/admin/v1/merchants?status=pending&limit=100", "#/merchants?status=pending"],
    ["admin:merchants", "待审核商品", "/api/admin/v1/items?review=pending&limit=100", "#/items"],
    ["admin:orders", "异常订单", "/api/admin/v1/orders?abnormal=true&limit=100", "#/orders?abnormal=true"],
    ["admin:complaints", "待仲裁售后", "/api/admin/v1/after-sales?status=arbitrating&limit=100", "#/after-sales"],
    ["admin:campaigns", "待审核商户活动", "/api/admin/v1/campaigns?owner=merchant&status=pending&limit=100", "#/campaigns?owner=merchant&status=pending"],
    ["admin:complaints", "待处理投诉", "/api/admin/v1/complaints?status=open&limit=100", "#/complaints"],
  ];

  Console.register({
    id: "", title: "概览",
    async render(view) {
      const health = await fetch("/healthz").then(r => r.json());
      const me = await api("GET", "/api/admin/v1/me");
      const todo = await Promise.all(TODO.filter(([p]) => Console.can(p)).map(async ([, title, path, link]) => {
        const page = await api("GET", path);
        return `<a class="card kpi todo" href="${link}">${esc(title)}<b>${page.items.length}${page.next_cursor ? "+" : ""}</b></a>`;
      }));
      view.innerHTML = `<div class="kpis">
        <div class="card kpi">系统状态<b>${health.status === "ok" ? "正常" : "异常"}</b><span class="muted">数据库：${esc(health.database)}</span></div>
        <div class="card kpi">当前账号<b>${esc(me.display_name)}</b><span class="muted">${esc(Console.label(Console.ROLE_NAMES, me.role))} · 上次登录：${esc(Console.time(me.last_login_at) === "—" ? "首次" : Console.time(me.last_login_at))}</span></div>
      </div><h2>待办</h2><div class="kpis">${todo.join("")}</div>`;
    },
  });
})();
