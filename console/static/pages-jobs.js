// 定时任务: the scheduled jobs and their recent runs.
"use strict";
(() => {
  const { esc, api } = Console;
  const OUTCOME = { ok: "成功", failed: "失败", skipped: "跳过", running: "运行中" };

  Console.register({
    id: "jobs", title: "定时任务", permission: "admin:jobs",
    async render(view) {
      const jobs = await api("GET", "/api/admin/v1/jobs");
      view.innerHTML = `<div class="card"><h3>定时任务</h3>${Console.table([
        { title: "任务", value: j => j.name },
        { title: "计划", value: j => j.schedule },
        { title: "最近运行", html: j => j.last_run ? `${esc(OUTCOME[j.last_run.outcome] || j.last_run.outcome)} · ${esc(Console.time(j.last_run.started_at))}` : "<span class=muted>从未</span>" },
        { title: "下次", value: j => Console.time(j.next_due_at) },
        { title: "", html: j => `<a href="#/jobs" data-job="${esc(j.name)}">运行记录</a>` },
      ], jobs.items)}</div><div id="runs"></div>`;
      const show = async (name) => {
        const runs = await api("GET", `/api/admin/v1/jobs/${encodeURIComponent(name)}/runs?limit=20`);
        document.getElementById("runs").innerHTML = `<div class="card"><h3>${esc(name)} 的运行记录</h3>${Console.table([
          { title: "开始", value: r => Console.time(r.started_at) },
          { title: "结束", value: r => Console.time(r.finished_at) },
          { title: "结果", value: r => OUTCOME[r.outcome] || r.outcome },
          { title: "计数", value: r => JSON.stringify(r.counts) },
          { title: "错误", value: r => r.error || "" },
          { title: "执行者", value: r => r.holder },
        ], runs.items)}</div>`;
      };
      view.querySelectorAll("a[data-job]").forEach(a => a.onclick = (e) => { e.preventDefault(); show(a.dataset.job).catch(Console.failed); });
    },
  });
})();
