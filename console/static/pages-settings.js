// 系统设置: the platform's name, logo and contact; its policies with their versions; the
// system's health (version, database, scheduled jobs, backlogs); backups (start one and
// follow it, download, how to restore one on the command line).
"use strict";
(() => {
  const { esc, time, label, table, api } = Console;
  const W = Widgets;
  const TABS = [["basic", "基本信息"], ["policies", "协议与政策"], ["health", "系统状态"], ["backups", "备份与恢复"]];
  const POLICIES = [["privacy_policy", "隐私政策"], ["user_agreement", "用户协议"]];
  const OUTCOME = { ok: "成功", failed: "失败", skipped: "跳过", running: "运行中" };
  const BACKUP_STATUS = { running: "进行中", succeeded: "成功", failed: "失败" };
  const BACKUP_TONE = { running: "warn", succeeded: "ok", failed: "bad" };
  const TRIGGER = { console: "控制台", schedule: "每日定时", command: "命令行", found: "恢复后登记" };
  const POLL_MS = 2000;

  function tabs(current) {
    return `<div class="tabs">${TABS.map(([id, title]) => `<a href="#/settings?tab=${id}" class="${id === current ? "active" : ""}">${esc(title)}</a>`).join("")}</div>`;
  }

  // The logo is a multipart upload (Console.api speaks JSON), with the login's token.
  async function uploadLogo(file) {
    const form = new FormData();
    form.append("file", file);
    const key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    const response = await fetch("/api/admin/v1/uploads", { method: "POST", body: form, headers: { Authorization: "Bearer " + Console.session().access_token, "Idempotency-Key": key } });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const err = new Error(data && data.error ? data.error.message : "上传失败 (" + response.status + ")");
      err.code = data && data.error ? data.error.code : "HTTP_" + response.status;
      throw err;
    }
    return data;
  }

  async function save(changes, done) {
    try {
      await api("PUT", "/api/admin/v1/settings", changes);
      Console.notice(done || "已保存");
      Console.reload();
    } catch (e) { Console.failed(e); }
  }

  async function renderBasic(view) {
    const s = await api("GET", "/api/admin/v1/settings");
    const logo = s.logo_url ? `<img class="logo-preview" src="${esc(s.logo_url)}" alt="平台 Logo">` : `<span class="muted">未设置（小程序显示默认图标）</span>`;
    view.innerHTML += `<div class="card"><h3>基本信息</h3>
      <form class="settings-form" id="basic">
        <div class="field"><label for="s-name">平台名称 *</label><input id="s-name" name="name" maxlength="32" value="${esc(s.name)}" required></div>
        <div class="field"><label for="s-phone">客服电话</label><input id="s-phone" name="contact_phone" maxlength="32" value="${esc(s.contact.phone)}" placeholder="如 400-820-8820"></div>
        <div class="field"><label for="s-hours">客服时间</label><input id="s-hours" name="contact_hours" maxlength="64" value="${esc(s.contact.hours)}" placeholder="如 每天 09:00-21:00"></div>
        <div class="field"><button>保存</button> <span class="muted">${s.updated_at ? "最近修改：" + esc(time(s.updated_at)) : "尚未修改，显示的是默认值"}</span></div>
      </form></div>
      <div class="card"><h3>平台 Logo</h3><div class="logo-row">${logo}
        <div><input type="file" id="logo-file" accept="image/png,image/jpeg,image/webp">
        <button type="button" id="logo-upload">上传并使用</button>
        ${s.logo_url ? `<button type="button" class="secondary" id="logo-clear">移除</button>` : ""}
        <p class="muted">PNG、JPEG 或 WebP，建议 256×256 的正方形图片。</p></div></div></div>`;
    const form = view.querySelector("#basic");
    form.onsubmit = (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      const changes = {};
      if (values.name.trim() !== s.name) changes.name = values.name.trim();
      if (values.contact_phone.trim() !== s.contact.phone) changes.contact_phone = values.contact_phone.trim();
      if (values.contact_hours.trim() !== s.contact.hours) changes.contact_hours = values.contact_hours.trim();
      if (!Object.keys(changes).length) { Console.notice("没有修改"); return; }
      save(changes);
    };
    view.querySelector("#logo-upload").onclick = async () => {
      const file = view.querySelector("#logo-file").files[0];
      if (!file) { Console.notice("请先选择图片", "error"); return; }
      try {
        const upload = await uploadLogo(file);
        await save({ logo_upload_id: upload.id }, "Logo 已更新");
      } catch (e) { Console.failed(e); }
    };
    const clear = view.querySelector("#logo-clear");
    if (clear) clear.onclick = () => W.act({ title: "移除 Logo", message: "小程序将显示默认图标。", confirm: "移除", danger: true, done: "已移除", action: () => api("PUT", "/api/admin/v1/settings", { logo_upload_id: null }) });
  }

  async function renderPolicies(view) {
    const s = await api("GET", "/api/admin/v1/settings");
    const histories = await Promise.all(POLICIES.map(([kind]) => api("GET", `/api/admin/v1/settings/${kind}/versions`)));
    view.innerHTML += POLICIES.map(([kind, title], i) => `<div class="card"><h3>${esc(title)} ${W.badge("当前 v" + s[kind].version, "ok")}</h3>
      <form class="policy-form" data-kind="${kind}">
        <textarea name="text" rows="10" maxlength="20000">${esc(s[kind].text)}</textarea>
        <p><button>保存为新版本</button> <span class="muted">保存后版本号加一；用户同意过的旧版本仍可查看。</span></p>
      </form>
      <h3>历史版本</h3>${table([
        { title: "版本", value: v => "v" + v.version },
        { title: "生效时间", value: v => v.created_by ? time(v.created_at) : "初始版本" },
        { title: "修改人", value: v => v.created_by ? (v.created_by_name || "#" + v.created_by) : "系统默认" },
        { title: "字数", value: v => v.text.length },
        { title: "", html: v => W.button("view", kind + ":" + v.version, "查看", "secondary") },
      ], histories[i].items)}</div>`).join("");
    view.querySelectorAll("form.policy-form").forEach(form => form.onsubmit = (event) => {
      event.preventDefault();
      const kind = form.dataset.kind;
      const text = form.querySelector("textarea").value.trim();
      if (text === s[kind].text) { Console.notice("内容没有变化"); return; }
      save({ [kind]: text }, "已保存为新版本");
    });
    W.bindActions(view, {
      view: (id) => {
        const [kind, version] = id.split(":");
        const found = histories[POLICIES.findIndex(([k]) => k === kind)].items.find(v => String(v.version) === version);
        W.dialog({ title: `${POLICIES.find(([k]) => k === kind)[1]} v${version}`, message: found.text, confirm: "关闭" });
      },
    });
  }

  function kpi(title, value, note, bad) {
    return `<div class="card kpi${bad ? " alert" : ""}">${esc(title)}<b>${esc(value)}</b><span class="muted">${esc(note || "")}</span></div>`;
  }

  async function renderHealth(view) {
    const h = await api("GET", "/api/admin/v1/system");
    const db = h.database, out = h.outbox, pay = h.payment_notifications, bk = h.backups;
    const failing = h.jobs.filter(j => j.failures_24h > 0).length;
    view.innerHTML += `<div class="kpis">
        ${kpi("版本", h.version, "运行环境：" + (h.environment === "production" ? "生产" : "沙箱"))}
        ${kpi("数据库", db.kind === "mysql" ? "MySQL" : "SQLite", db.server_version)}
        ${kpi("数据迁移", (db.migration || "—").slice(0, 4), db.pending_migrations.length ? "待执行 " + db.pending_migrations.length + " 个" : "已是最新", db.pending_migrations.length > 0)}
        ${kpi("待发送通知", out.pending + out.sending, out.oldest_pending_due_at ? "最早应发：" + time(out.oldest_pending_due_at) : "无积压")}
        ${kpi("发送失败通知", out.failed, "已放弃重试", out.failed > 0)}
        ${kpi("未处理支付通知", pay.unapplied, pay.overdue ? "已超过 15 分钟未处理" : (pay.abnormal ? "异常 " + pay.abnormal + " 笔" : "正常"), pay.overdue)}
        ${kpi("最近备份", bk.last_succeeded_at ? time(bk.last_succeeded_at) : "从未", bk.running ? "有备份正在进行" : (bk.overdue ? "超过 26 小时没有成功的备份" : "正常"), bk.overdue)}
        ${kpi("定时任务", h.jobs.length + " 个", failing ? failing + " 个 24 小时内失败过" : "24 小时内无失败", failing > 0)}
      </div>
      ${h.job_configuration_errors.length ? `<p class="error">定时任务配置有误：${esc(h.job_configuration_errors.join("、"))}</p>` : ""}
      <div class="card"><h3>定时任务 <a class="small-link" href="#/jobs">运行记录 »</a></h3>${table([
        { title: "任务", value: j => j.name },
        { title: "计划", value: j => j.schedule },
        { title: "最近运行", html: j => j.last_run ? `${W.badge(OUTCOME[j.last_run.outcome] || j.last_run.outcome, { ok: "ok", failed: "bad" }[j.last_run.outcome])} ${esc(time(j.last_run.started_at))}` : "<span class=muted>从未</span>" },
        { title: "24 小时失败", html: j => j.failures_24h ? W.badge(j.failures_24h + " 次", "bad") : "0" },
        { title: "最近失败", value: j => time(j.last_failed_at) },
        { title: "下次", value: j => time(j.next_due_at) },
      ], h.jobs)}</div>`;
  }

  function size(bytes) {
    if (bytes === null || bytes === undefined) return "—";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let n = bytes, i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function backupState(b) {
    const p = b.progress;
    const note = b.status === "running" ? ` <span class="muted" data-progress="${b.id}">${p.tables_total ? p.tables_done + "/" + p.tables_total + " 张表" : "准备中…"}</span>` : "";
    return W.badge(label(BACKUP_STATUS, b.status), BACKUP_TONE[b.status]) + note + (b.error ? `<div class="error small">${esc(b.error)}</div>` : "");
  }

  function restoreSteps(b) {
    return [
      "恢复需要在命令行进行，并会替换当前的全部数据和已上传的图片：",
      "1. 停止所有服务进程（python -m server）和定时任务进程（python -m scheduler），恢复期间不能有写入。",
      "2. 建议先为当前数据再做一次备份：python -m server backup",
      `3. 在备份文件所在的主机（${b.host}）上、用与服务相同的配置（DATABASE_URL 等）执行：`,
      "   " + b.restore_command,
      "   命令会先核对文件的校验和，再载入全部数据并逐表核对行数，然后执行新的数据迁移、写回图片；任何一步不符都会放弃恢复。",
      "4. 恢复完成后启动服务和定时任务，登录控制台检查数据。",
      "备份目录中比这份备份更新的备份会在恢复后自动重新登记，仍可下载。",
      `文件 SHA-256：${b.sha256}`,
    ].join("\n");
  }

  // While a backup runs, ask for it every POLL_MS: its progress in place, the page again
  // when it ends. Stops once the page shows something else.
  function follow(view, id) {
    const marker = view.querySelector(`[data-progress="${id}"]`);
    setTimeout(async () => {
      if (!marker || !marker.isConnected) return;
      try {
        const b = await api("GET", `/api/admin/v1/backups/${id}`);
        if (b.status !== "running") {
          Console.notice(b.status === "succeeded" ? "备份已完成" : "备份失败：" + (b.error || ""), b.status === "succeeded" ? "" : "error");
          Console.reload();
          return;
        }
        marker.textContent = b.progress.tables_total ? b.progress.tables_done + "/" + b.progress.tables_total + " 张表" : "准备中…";
      } catch (e) { /* a failed poll: the next one tries again */ }
      follow(view, id);
    }, POLL_MS);
  }

  async function renderBackups(view, params) {
    const page = await api("GET", "/api/admin/v1/backups" + W.query(params, ["cursor"]));
    const running = page.items.find(b => b.status === "running");
    view.innerHTML += `<div class="card"><h3>备份 ${running ? W.badge("有备份正在进行", "warn") : W.button("start", "", "立即备份")}</h3>
      <p class="muted">定时任务 backups.daily 每天自动备份一次（默认 02:30）；备份目录 <code>${esc(page.backup_dir)}</code>，保留最近 ${esc(page.keep)} 份成功的备份（最新的一份永不删除）。备份包含全部数据和已上传的图片，进行中不影响服务。</p>
      ${table([
        { title: "编号", value: b => "#" + b.id },
        { title: "开始时间", value: b => time(b.started_at) },
        { title: "状态", html: backupState },
        { title: "来源", value: b => label(TRIGGER, b.trigger) + (b.started_by_name ? "（" + b.started_by_name + "）" : "") },
        { title: "大小", value: b => size(b.size_bytes) },
        { title: "数据行数", value: b => b.status === "succeeded" ? b.rows_total : "—" },
        { title: "图片", value: b => b.status === "succeeded" ? b.files : "—" },
        { title: "完成时间", value: b => time(b.finished_at) },
        { title: "操作", html: b => b.status === "succeeded" ? [W.button("download", b.id, "下载"), W.button("restore", b.id, "恢复说明", "secondary")].join(" ") : "" },
      ], page.items)}${W.pager("settings", params, page.next_cursor)}</div>
      <div class="card"><h3>如何恢复</h3><p class="muted">恢复会替换全部数据，需要先停止服务，因此只能在服务器的命令行上执行。点击某份备份的“恢复说明”可查看它的完整恢复命令和步骤。恢复到一个新的空数据库时可以去掉 <code>--force</code>。</p></div>`;
    const byId = Object.fromEntries(page.items.map(b => [String(b.id), b]));
    W.bindActions(view, {
      start: async (_, button) => {
        button.disabled = true;
        try {
          await Console.create("/api/admin/v1/backups", {});
          Console.notice("备份已开始");
          Console.reload();
        } catch (e) { button.disabled = false; Console.failed(e); }
      },
      download: id => Console.download(byId[id].download_url, byId[id].file_name).catch(Console.failed),
      restore: id => W.dialog({ title: `恢复备份 #${id}`, message: restoreSteps(byId[id]), confirm: "关闭" }),
    });
    if (running) follow(view, running.id);
  }

  Console.register({
    id: "settings", title: "系统设置", permission: "admin:settings",
    async render(view, params) {
      const tab = TABS.some(([id]) => id === params.get("tab")) ? params.get("tab") : "basic";
      view.innerHTML = tabs(tab);
      await ({ basic: renderBasic, policies: renderPolicies, health: renderHealth, backups: renderBackups })[tab](view, params);
    },
  });
})();
