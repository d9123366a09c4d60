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

const OUTCOME = { ok: "成功", failed: "失败", skipped: "跳过", running: "运行中" };

Console.register({
  id: "jobs", title: "定时任务", roles: ["administrator", "operator"],
  async render(view) {
    const jobs = await Console.api("GET", "/api/admin/v1/jobs");
    view.innerHTML = `<div class="card"><h3>定时任务</h3>${Console.table([
      { title: "任务", value: j => j.name },
      { title: "计划", value: j => j.schedule },
      { title: "最近运行", html: j => j.last_run ? `${Console.esc(OUTCOME[j.last_run.outcome] || j.last_run.outcome)} · ${Console.esc(j.last_run.started_at)}` : "<span class=muted>从未</span>" },
      { title: "下次", value: j => j.next_due_at || "—" },
      { title: "", html: j => `<a href="#/jobs?name=${encodeURIComponent(j.name)}" data-job="${Console.esc(j.name)}">运行记录</a>` },
    ], jobs.items)}</div><div id="runs"></div>`;
    const show = async (name) => {
      const runs = await Console.api("GET", `/api/admin/v1/jobs/${encodeURIComponent(name)}/runs?limit=20`);
      document.getElementById("runs").innerHTML = `<div class="card"><h3>${Console.esc(name)} 的运行记录</h3>${Console.table([
        { title: "开始", value: r => r.started_at },
        { title: "结束", value: r => r.finished_at || "—" },
        { title: "结果", value: r => OUTCOME[r.outcome] || r.outcome },
        { title: "计数", value: r => JSON.stringify(r.counts) },
        { title: "错误", value: r => r.error || "" },
        { title: "执行者", value: r => r.holder },
      ], runs.items)}</div>`;
    };
    view.querySelectorAll("a[data-job]").forEach(a => a.onclick = (e) => { e.preventDefault(); show(a.dataset.job); });
  },
});
