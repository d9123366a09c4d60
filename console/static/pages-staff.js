// 员工与权限: console accounts (create, change role or name, disable, reset password) and
// what each role may do.
"use strict";
(() => {
  const { esc, time, table, label, api, ROLE_NAMES } = Console;
  const W = Widgets;
  const STATUS = { active: "启用", disabled: "停用" };
  const ROLE_OPTIONS = Object.entries(ROLE_NAMES);
  const PASSWORD_HINT = "至少 10 位，须同时包含字母和数字";

  Console.register({
    id: "staff", title: "员工与权限", permission: "admin:operators",
    async render(view) {
      const [operators, roles] = await Promise.all([api("GET", "/api/admin/v1/operators"), api("GET", "/api/admin/v1/roles")]);
      const me = Console.session().operator.id;
      const byId = Object.fromEntries(operators.items.map(o => [String(o.id), o]));
      view.innerHTML = `<div class="card"><h3>员工账号 ${W.button("create", "", "新建账号")}</h3>
        <p class="muted">修改角色、停用或重置密码后，该账号已登录的会话立即失效。至少保留一名启用中的管理员；不能停用自己或取消自己的管理员角色。</p>
        ${table([
          { title: "用户名", html: o => esc(o.username) + (o.id === me ? " " + W.badge("我") : "") },
          { title: "姓名", value: o => o.display_name },
          { title: "角色", value: o => label(ROLE_NAMES, o.role) },
          { title: "状态", html: o => W.badge(label(STATUS, o.status), o.status === "active" ? "ok" : "bad") },
          { title: "上次登录", value: o => o.last_login_at ? time(o.last_login_at) : "从未登录" },
          { title: "创建时间", value: o => time(o.created_at) },
          { title: "操作", html: o => [
            W.button("edit", o.id, "编辑", "secondary"),
            W.button("password", o.id, "重置密码", "secondary"),
            o.id === me ? "" : (o.status === "active" ? W.button("disable", o.id, "停用", "danger") : W.button("enable", o.id, "启用")),
          ].join(" ") },
        ], operators.items)}</div>
        <h2>角色与权限</h2><div class="roles">${roles.items.map(r => `<div class="card"><h3>${esc(r.label)} <span class="muted small-link">${esc(r.role)}</span></h3>
          <ul class="permissions">${r.permissions.map(p => `<li>${esc(p.label)} <span class="muted">${esc(p.permission)}</span></li>`).join("")}</ul></div>`).join("")}</div>`;
      W.bindActions(view, {
        create: () => W.act({
          title: "新建员工账号", confirm: "创建", done: "账号已创建",
          fields: [
            { name: "username", label: "用户名（登录用）", required: true, hint: "字母、数字和 _.@-，3-64 位" },
            { name: "display_name", label: "姓名" },
            { name: "role", label: "角色", type: "select", options: ROLE_OPTIONS, value: "operator", required: true },
            { name: "password", label: "初始密码", type: "password", required: true, hint: PASSWORD_HINT },
          ],
          action: v => Console.create("/api/admin/v1/operators", v),
        }),
        edit: id => W.act({
          title: "编辑账号 " + byId[id].username, confirm: "保存", done: "已保存",
          message: id === String(me) ? "不能取消自己的管理员角色。" : "修改角色后，该账号需重新登录。",
          fields: [
            { name: "display_name", label: "姓名", value: byId[id].display_name, required: true },
            { name: "role", label: "角色", type: "select", options: ROLE_OPTIONS, value: byId[id].role, required: true },
          ],
          action: v => {
            const changes = {};
            if (v.display_name !== byId[id].display_name) changes.display_name = v.display_name;
            if (v.role !== byId[id].role) changes.role = v.role;
            return Object.keys(changes).length ? api("PATCH", `/api/admin/v1/operators/${id}`, changes) : true;
          },
        }),
        disable: id => W.act({
          title: "停用账号 " + byId[id].username, confirm: "停用", danger: true, done: "已停用，其会话已失效",
          message: "停用后该账号无法登录，已登录的会话立即失效。可随时重新启用。",
          action: () => api("PATCH", `/api/admin/v1/operators/${id}`, { status: "disabled" }),
        }),
        enable: id => W.act({
          title: "启用账号 " + byId[id].username, confirm: "启用", done: "已启用",
          action: () => api("PATCH", `/api/admin/v1/operators/${id}`, { status: "active" }),
        }),
        password: id => W.act({
          title: "重置密码 " + byId[id].username, confirm: "重置", danger: true, done: "密码已重置",
          message: id === String(me) ? "你的其他登录会话将失效，当前会话保留。" : "该账号已登录的会话将立即失效，请把新密码告知本人。",
          fields: [{ name: "password", label: "新密码", type: "password", required: true, hint: PASSWORD_HINT }],
          action: v => Console.create(`/api/admin/v1/operators/${id}/password`, { password: v.password }),
        }),
      });
    },
  });
})();
