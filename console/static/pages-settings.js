// 系统设置: the platform's name, logo and contact; its policies with their versions; the
// system's health (version, database, scheduled jobs, backlogs).
"use strict";
(() => {
  const { esc, time, table, api } = Console;
  const W = Widgets;
  const TABS = [["basic", "基本信息"], ["policies", "协议与政策"], ["health", "系统状态"]];
  const POLICIES = [["privacy_policy", "隐私政策"], ["user_agreement", "用户协议"]];
  const OUTCOME = { ok: "成功", failed: "失败", skipped: "跳过", running: "运行中" };

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
    const db = h.database, out = h.outbox, pay = h.payment_notifications;
    const failing = h.jobs.filter(j => j.failures_24h > 0).length;
    view.innerHTML += `<div class="kpis">
        ${kpi("版本", h.version, "运行环境：" + (h.environment === "production" ? "生产" : "沙箱"))}
        ${kpi("数据库", db.kind === "mysql" ? "MySQL" : "SQLite", db.server_version)}
        ${kpi("数据迁移", (db.migration || "—").slice(0, 4), db.pending_migrations.length ? "待执行 " + db.pending_migrations.length + " 个" : "已是最新", db.pending_migrations.length > 0)}
        ${kpi("待发送通知", out.pending + out.sending, out.oldest_pending_due_at ? "最早应发：" + time(out.oldest_pending_due_at) : "无积压")}
        ${kpi("发送失败通知", out.failed, "已放弃重试", out.failed > 0)}
        ${kpi("未处理支付通知", pay.unapplied, pay.overdue ? "已超过 15 分钟未处理" : (pay.abnormal ? "异常 " + pay.abnormal + " 笔" : "正常"), pay.overdue)}
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

  Console.register({
    id: "settings", title: "系统设置", permission: "admin:settings",
    async render(view, params) {
      const tab = TABS.some(([id]) => id === params.get("tab")) ? params.get("tab") : "basic";
      view.innerHTML = tabs(tab);
      await ({ basic: renderBasic, policies: renderPolicies, health: renderHealth })[tab](view);
    },
  });
})();
