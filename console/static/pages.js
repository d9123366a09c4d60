// The console's pages: each registers an id, a title, the roles that see it and a render.
"use strict";
Console.register({
  id: "", title: "概览",
  async render(view) {
    const health = await fetch("/healthz").then(r => r.json());
    const me = await Console.api("GET", "/api/admin/v1/me");
    view.innerHTML = `<div class="kpis">
      <div class="card kpi">系统状态<b>${health.status === "ok" ? "正常" : "异常"}</b><span class="muted">数据库：${Console.esc(health.database)}</span></div>
      <div class="card kpi">当前账号<b>${Console.esc(me.display_name)}</b><span class="muted">上次登录：${Console.esc(me.last_login_at || "首次")}</span></div>
    </div>`;
  },
});
