// 公众号自动回复: the official account's automatic replies (add, change, switch, remove).
"use strict";
(() => {
  const { esc, time, label, table, api } = Console;
  const W = Widgets;
  const MATCH = { exact: "关键词完全匹配", contains: "关键词包含", click: "菜单点击", subscribe: "关注时" };

  function fields(rule) {
    const r = rule || { match: "contains", keyword: "", reply_text: "", enabled: true, priority: 0 };
    return [
      { name: "match", label: "触发方式", type: "select", options: Object.entries(MATCH), value: r.match },
      { name: "keyword", label: "关键词 / 菜单 key", value: r.keyword, hint: "关注时回复不填" },
      { name: "reply_text", label: "回复内容（最多 600 字）", type: "textarea", required: true, value: r.reply_text },
      { name: "priority", label: "优先级（-1000 ~ 1000，大者优先）", type: "number", value: r.priority },
      { name: "enabled", label: "启用", type: "checkbox", value: r.enabled },
    ];
  }

  Console.register({
    id: "auto-replies", title: "公众号自动回复", permission: "admin:oa",
    async render(view, params) {
      const page = await api("GET", "/api/admin/v1/oa/auto-replies" + W.query(params, ["cursor"]));
      view.innerHTML = `<div class="card"><h3>公众号自动回复 <button type="button" id="new-rule" class="small">新增回复</button></h3>${table([
        { title: "ID", value: r => r.id },
        { title: "触发方式", value: r => label(MATCH, r.match) },
        { title: "关键词", value: r => r.keyword || "—" },
        { title: "回复内容", html: r => `<div class="reply">${esc(r.reply_text)}</div>` },
        { title: "优先级", value: r => r.priority },
        { title: "状态", html: r => W.badge(r.enabled ? "启用" : "停用", r.enabled ? "ok" : "") },
        { title: "更新时间", value: r => time(r.updated_at) },
        { title: "操作", html: r => [W.button("edit", r.id, "编辑", "secondary"),
          W.button("toggle", r.id, r.enabled ? "停用" : "启用", "secondary"), W.button("delete", r.id, "删除", "danger")].join(" ") },
      ], page.items)}${W.pager("auto-replies", params, page.next_cursor)}</div>`;
      const find = id => page.items.find(r => String(r.id) === id);
      view.querySelector("#new-rule").onclick = () => W.act({ title: "新增自动回复", fields: fields(), confirm: "保存", done: "已新增",
        action: v => Console.create("/api/admin/v1/oa/auto-replies", v) });
      W.bindActions(view, {
        edit: id => W.act({ title: "编辑自动回复 #" + id, fields: fields(find(id)), confirm: "保存", done: "已保存",
          action: v => api("PATCH", `/api/admin/v1/oa/auto-replies/${id}`, { keyword: "", ...v }) }),
        toggle: id => W.act({ title: (find(id).enabled ? "停用" : "启用") + "自动回复 #" + id, message: find(id).enabled ? "停用后不再自动回复此规则。" : "启用后立即生效。",
          confirm: "确定", danger: find(id).enabled, done: "已更新", action: () => api("PATCH", `/api/admin/v1/oa/auto-replies/${id}`, { enabled: !find(id).enabled }) }),
        delete: id => W.act({ title: "删除自动回复 #" + id, message: "删除后无法恢复，确定删除？", confirm: "删除", danger: true, done: "已删除",
          action: () => api("DELETE", `/api/admin/v1/oa/auto-replies/${id}`) }),
      });
    },
  });
})();
