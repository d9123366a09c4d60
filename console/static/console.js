// The console's core: session, API calls with the error envelope, routing, page registry.
"use strict";
const Console = (() => {
  const pages = [];
  const store = window.sessionStorage;
  // Mirrors alliance/accounts/permissions.py ROLE_PERMISSIONS for the console roles
  // (tests/api/test_console.py keeps the two equal).
  const ROLE_PERMISSIONS = {
    "administrator": ["admin:merchants", "admin:consumers", "admin:orders", "admin:campaigns", "admin:complaints", "admin:analytics", "admin:settings", "admin:operators", "admin:jobs", "admin:oa", "admin:settlement"],
    "operator": ["admin:merchants", "admin:consumers", "admin:orders", "admin:campaigns", "admin:analytics", "admin:jobs", "admin:oa"],
    "customer_service": ["admin:consumers", "admin:orders", "admin:complaints"],
  };
  const ROLE_NAMES = { administrator: "管理员", operator: "运营", customer_service: "客服" };

  function session() {
    const raw = store.getItem("alliance.session");
    return raw ? JSON.parse(raw) : null;
  }

  function can(permission) {
    const s = session();
    return !!s && (ROLE_PERMISSIONS[s.operator.role] || []).includes(permission);
  }

  async function api(method, path, body, headers) {
    const s = session();
    const all = { "Content-Type": "application/json", ...(headers || {}) };
    if (s) all.Authorization = "Bearer " + s.access_token;
    let response = await fetch(path, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 && s && s.refresh_token && path !== "/api/admin/v1/auth/refresh") {
      const refreshed = await fetch("/api/admin/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: s.refresh_token }) });
      if (refreshed.ok) {
        store.setItem("alliance.session", JSON.stringify({ ...s, ...(await refreshed.json()) }));
        return api(method, path, body, headers);
      }
      logout();
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!response.ok) {
      const err = new Error(data && data.error ? data.error.message : "请求失败 (" + response.status + ")");
      err.code = data && data.error ? data.error.code : "HTTP_" + response.status;
      err.details = (data && data.error && data.error.details) || {};
      throw err;
    }
    return data;
  }

  // A creating POST carries a fresh Idempotency-Key, so a double click creates one thing.
  function create(path, body) {
    const key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    return api("POST", path, body, { "Idempotency-Key": key });
  }

  function logout() {
    store.removeItem("alliance.session");
    location.hash = "#/login";
    route();
  }

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function fen(value) { return "¥" + (Number(value || 0) / 100).toFixed(2); }

  // "2026-11-28T09:20:53+08:00" -> "2026-11-28 09:20"
  function time(value) { return value ? String(value).slice(0, 16).replace("T", " ") : "—"; }

  function label(names, value) { return names[value] || value || "—"; }

  function table(columns, rows) {
    const head = columns.map(c => "<th>" + esc(c.title) + "</th>").join("");
    const body = rows.map(r => "<tr>" + columns.map(c => "<td>" + (c.html ? c.html(r) : esc(c.value(r))) + "</td>").join("") + "</tr>").join("");
    return "<table><thead><tr>" + head + "</tr></thead><tbody>" + (body || "<tr><td class=muted colspan=" + columns.length + ">暂无数据</td></tr>") + "</tbody></table>";
  }

  // A file download needs the login's token: fetched, then saved from a blob.
  async function download(path, filename) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + session().access_token } });
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      throw new Error(data && data.error ? data.error.message : "下载失败 (" + response.status + ")");
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  function register(page) { pages.push(page); }

  // A page names the permission it needs (none: every operator sees it).
  function visible(page) { return !!session() && (!page.permission || can(page.permission)); }

  // The hash is "#/<page>?a=1&b=2": the page id and its parameters.
  function params() { return new URLSearchParams(location.hash.split("?")[1] || ""); }

  function go(id, values) {
    const query = new URLSearchParams();
    Object.entries(values || {}).forEach(([k, v]) => { if (v !== undefined && v !== null && v !== "") query.set(k, v); });
    const target = "#/" + id + (query.toString() ? "?" + query : "");
    if (location.hash === target) route(); else location.hash = target;
  }

  function notice(message, kind) {
    let box = document.getElementById("notice");
    if (!box) { box = document.createElement("div"); box.id = "notice"; document.body.appendChild(box); }
    box.className = kind === "error" ? "notice error-notice" : "notice";
    box.textContent = message;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => box.remove(), kind === "error" ? 8000 : 3000);
  }

  function failed(e) { notice(e.message + (e.code ? "（" + e.code + "）" : ""), "error"); }

  function renderNav(s) {
    const nav = document.getElementById("nav");
    nav.innerHTML = s ? pages.filter(visible).map(p => `<a href="#/${p.id}" data-id="${p.id}">${esc(p.title)}</a>`).join("") : "";
    nav.hidden = !s;
    document.getElementById("who").innerHTML = s ? `${esc(s.operator.display_name)}（${esc(label(ROLE_NAMES, s.operator.role))}）<button class="secondary" id="logout">退出</button>` : "";
    const button = document.getElementById("logout");
    if (button) button.onclick = async () => { try { await api("POST", "/api/admin/v1/auth/logout"); } catch (e) { /* already gone */ } logout(); };
  }

  async function route() {
    const s = session();
    const id = (location.hash.replace(/^#\//, "") || "").split("?")[0];
    const view = document.getElementById("view");
    document.querySelectorAll(".overlay").forEach(o => o.remove());  // a dialog of the page left
    renderNav(s);
    if (!s) return renderLogin(view);
    const page = pages.filter(visible).find(p => p.id === id) || pages.filter(visible)[0];
    document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.id === page.id));
    view.innerHTML = "<p class=muted>加载中…</p>";
    try { await page.render(view, params()); } catch (e) { view.innerHTML = `<p class="error">${esc(e.message)}${e.code ? "（" + esc(e.code) + "）" : ""}</p>`; }
  }

  function renderLogin(view) {
    view.innerHTML = `<form class="login card"><h2>运营人员登录</h2>
      <label>用户名<input name="username" autocomplete="username" required></label>
      <label>密码<input name="password" type="password" autocomplete="current-password" required></label>
      <button>登录</button> <span class="error" id="login-error"></span></form>`;
    view.querySelector("form").onsubmit = async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const result = await api("POST", "/api/admin/v1/auth/login", { username: form.get("username"), password: form.get("password") });
        store.setItem("alliance.session", JSON.stringify(result));
        location.hash = "#/";
        route();
      } catch (e) { document.getElementById("login-error").textContent = e.message; }
    };
  }

  window.addEventListener("hashchange", route);
  window.addEventListener("DOMContentLoaded", route);
  return { api, create, download, register, esc, fen, time, label, table, session, can, params, go, reload: route, notice, failed, ROLE_NAMES };
})();
