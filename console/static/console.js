// The console's core: session, API calls with the error envelope, routing, page registry.
"use strict";
const Console = (() => {
  const pages = [];
  const store = window.sessionStorage;

  function session() {
    const raw = store.getItem("alliance.session");
    return raw ? JSON.parse(raw) : null;
  }

  async function api(method, path, body) {
    const s = session();
    const headers = { "Content-Type": "application/json" };
    if (s) headers.Authorization = "Bearer " + s.access_token;
    let response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 && s && s.refresh_token && path !== "/api/admin/v1/auth/refresh") {
      const refreshed = await fetch("/api/admin/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: s.refresh_token }) });
      if (refreshed.ok) {
        store.setItem("alliance.session", JSON.stringify({ ...s, ...(await refreshed.json()) }));
        return api(method, path, body);
      }
      logout();
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const err = new Error(data && data.error ? data.error.message : "请求失败 (" + response.status + ")");
      err.code = data && data.error ? data.error.code : "HTTP_" + response.status;
      throw err;
    }
    return data;
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

  function table(columns, rows) {
    const head = columns.map(c => "<th>" + esc(c.title) + "</th>").join("");
    const body = rows.map(r => "<tr>" + columns.map(c => "<td>" + (c.html ? c.html(r) : esc(c.value(r))) + "</td>").join("") + "</tr>").join("");
    return "<table><thead><tr>" + head + "</tr></thead><tbody>" + (body || "<tr><td class=muted colspan=" + columns.length + ">暂无数据</td></tr>") + "</tbody></table>";
  }

  function register(page) { pages.push(page); }

  function renderNav(s) {
    document.getElementById("nav").innerHTML = s ? pages.filter(p => !p.roles || p.roles.includes(s.operator.role))
      .map(p => `<a href="#/${p.id}" data-id="${p.id}">${esc(p.title)}</a>`).join("") : "";
    document.getElementById("who").innerHTML = s ? `${esc(s.operator.display_name)}（${esc(s.operator.role)}）<button class="secondary" id="logout">退出</button>` : "";
    const button = document.getElementById("logout");
    if (button) button.onclick = async () => { try { await api("POST", "/api/admin/v1/auth/logout"); } catch (e) { /* already gone */ } logout(); };
  }

  async function route() {
    const s = session();
    const id = (location.hash.replace(/^#\//, "") || "").split("?")[0];
    const view = document.getElementById("view");
    renderNav(s);
    if (!s) return renderLogin(view);
    const page = pages.find(p => p.id === id) || pages[0];
    document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.id === page.id));
    view.innerHTML = "<p class=muted>加载中…</p>";
    try { await page.render(view); } catch (e) { view.innerHTML = `<p class="error">${esc(e.message)}（${esc(e.code)}）</p>`; }
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
  return { api, register, esc, fen, table, session };
})();
