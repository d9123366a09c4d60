// Shared page parts: modal dialogs (forms, confirmations), filter bars, paging, action buttons.
"use strict";
const Widgets = (() => {
  const { esc } = Console;

  function fieldHtml(f) {
    const id = "f-" + f.name;
    const req = f.required ? " required" : "";
    const value = f.value === undefined || f.value === null ? "" : f.value;
    let input;
    if (f.type === "textarea") input = `<textarea id="${id}" name="${f.name}" rows="4"${req}>${esc(value)}</textarea>`;
    else if (f.type === "select") input = `<select id="${id}" name="${f.name}"${req}>${f.options.map(([v, t]) => `<option value="${esc(v)}"${String(v) === String(value) ? " selected" : ""}>${esc(t)}</option>`).join("")}</select>`;
    else if (f.type === "checkbox") input = `<input id="${id}" name="${f.name}" type="checkbox"${value ? " checked" : ""}>`;
    // A password is hidden as typed; its button shows it, to check it before it is set.
    else if (f.type === "password") input = `<span class="secret"><input id="${id}" name="${f.name}" type="password" autocomplete="new-password"${req}><button type="button" class="small secondary" data-role="reveal" aria-controls="${id}" aria-pressed="false">显示</button></span>`;
    else if (f.type === "checks") input = f.options.map(([v, t]) => `<label class="inline"><input type="checkbox" name="${f.name}" value="${esc(v)}"${(value || []).includes(v) ? " checked" : ""}> ${esc(t)}</label>`).join(" ");
    else {
      const type = { money: "number", number: "number", datetime: "datetime-local" }[f.type] || "text";
      const step = f.type === "money" ? ' step="0.01" min="0"' : f.type === "number" ? ' step="1"' : "";
      const shown = f.type === "money" && value !== "" ? (Number(value) / 100).toFixed(2) : f.type === "datetime" ? String(value).slice(0, 16) : value;
      input = `<input id="${id}" name="${f.name}" type="${type}"${step} value="${esc(shown)}"${req}>`;
    }
    return `<div class="field"><label for="${id}">${esc(f.label)}${f.required ? " *" : ""}</label>${input}${f.hint ? `<small class="muted">${esc(f.hint)}</small>` : ""}</div>`;
  }

  // (form.elements[name] is shadowed for names such as "name"; look the control up instead.)
  function input(form, name) { return form.querySelector(`[name="${name}"]`); }

  // Values as the API wants them: money in fen, integers, booleans, lists; blank is left out.
  function readFields(form, fields) {
    const values = {};
    fields.forEach(f => {
      if (f.type === "checks") { values[f.name] = [...form.querySelectorAll(`input[name="${f.name}"]:checked`)].map(i => i.value); return; }
      const el = input(form, f.name);
      if (f.type === "checkbox") { values[f.name] = el.checked; return; }
      const raw = el.value.trim();
      if (raw === "") return;
      if (f.type === "money") values[f.name] = Math.round(parseFloat(raw) * 100);
      else if (f.type === "number") values[f.name] = parseInt(raw, 10);
      else values[f.name] = raw;
    });
    return values;
  }

  // A modal form. `submit(values)` runs on confirm; its error stays in the dialog for a retry.
  // Resolves to submit's result, or null when cancelled.
  function dialog({ title, message, fields = [], confirm = "确定", danger = false, submit }) {
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay";
      overlay.innerHTML = `<form class="dialog card${fields.length > 6 ? " wide" : ""}" novalidate><h3>${esc(title)}</h3>
        ${message ? `<p>${esc(message)}</p>` : ""}<div class="fields">${fields.map(fieldHtml).join("")}</div>
        <p class="error" data-role="error"></p>
        <div class="actions"><button type="button" class="secondary" data-role="cancel">取消</button>
        <button type="submit" class="${danger ? "danger" : ""}">${esc(confirm)}</button></div></form>`;
      document.body.appendChild(overlay);
      const form = overlay.querySelector("form");
      const close = (result) => { overlay.remove(); resolve(result); };
      overlay.querySelector('[data-role="cancel"]').onclick = () => close(null);
      overlay.querySelectorAll('[data-role="reveal"]').forEach(b => b.onclick = () => {
        const secret = overlay.querySelector("#" + b.getAttribute("aria-controls"));
        const show = secret.type === "password";
        secret.type = show ? "text" : "password";
        b.textContent = show ? "隐藏" : "显示";
        b.setAttribute("aria-pressed", String(show));
      });
      form.onsubmit = async (event) => {
        event.preventDefault();
        const missing = fields.find(f => f.required && f.type !== "checks" && !input(form, f.name).value.trim());
        const error = form.querySelector('[data-role="error"]');
        if (missing) { error.textContent = "请填写" + missing.label; return; }
        const button = form.querySelector('button[type="submit"]');
        button.disabled = true;
        try {
          const result = submit ? await submit(readFields(form, fields)) : true;
          close(result === null || result === undefined ? true : result);
        } catch (e) {
          const bad = fields.find(f => e.details && f.name === e.details.field);
          form.querySelectorAll(".invalid").forEach(el => el.classList.remove("invalid"));
          if (bad) input(form, bad.name).classList.add("invalid");
          error.textContent = e.message + (bad ? "：" + bad.label : "") + (e.code ? "（" + e.code + "）" : "");
          button.disabled = false;
        }
      };
      const first = form.querySelector("input, textarea, select");
      if (first) first.focus();
    });
  }

  // Confirm, then run `action`; on success tell the operator and re-render the page.
  async function act({ title, message, fields, confirm, danger, done, action }) {
    const result = await dialog({ title, message, fields, confirm, danger, submit: action });
    if (result !== null) { Console.notice(done || "操作成功"); Console.reload(); }
  }

  // A filter bar whose submit moves to `#/<page>?<filters>` (the page renders from the hash).
  function filters(pageId, fields, params) {
    const html = `<form class="toolbar filters" data-page="${esc(pageId)}">${fields.map(f => {
      const value = params.has(f.name) ? params.get(f.name) : (f.value || "");
      if (f.options) return `<label>${esc(f.label)} <select name="${f.name}">${f.options.map(([v, t]) => `<option value="${esc(v)}"${v === value ? " selected" : ""}>${esc(t)}</option>`).join("")}</select></label>`;
      return `<label>${esc(f.label)} <input name="${f.name}" type="${f.type || "text"}" value="${esc(value)}" placeholder="${esc(f.placeholder || "")}"></label>`;
    }).join("")}<button>查询</button><button type="button" class="secondary" data-role="reset">重置</button></form>`;
    return html;
  }

  function bindFilters(view) {
    const form = view.querySelector("form.filters");
    if (!form) return;
    form.onsubmit = (event) => {
      event.preventDefault();
      Console.go(form.dataset.page, Object.fromEntries(new FormData(form)));
    };
    form.querySelector('[data-role="reset"]').onclick = () => Console.go(form.dataset.page, {});
  }

  // Links to the first and the next page of a cursor-paged list.
  function pager(pageId, params, nextCursor) {
    const link = (cursor) => {
      const query = new URLSearchParams(params);
      query.delete("cursor");
      if (cursor) query.set("cursor", cursor);
      return "#/" + pageId + (query.toString() ? "?" + query : "");
    };
    const parts = [];
    if (params.get("cursor")) parts.push(`<a href="${esc(link(null))}">« 第一页</a>`);
    if (nextCursor) parts.push(`<a href="${esc(link(nextCursor))}">下一页 »</a>`);
    return parts.length ? `<div class="pager">${parts.join(" ")}</div>` : "";
  }

  // Query string for the API from the hash parameters (only the names listed).
  function query(params, names, extra) {
    const q = new URLSearchParams(extra || {});
    names.forEach(n => { if (params.get(n)) q.set(n, params.get(n)); });
    return q.toString() ? "?" + q : "";
  }

  function button(action, id, text, kind) {
    return `<button type="button" class="small ${kind || ""}" data-act="${esc(action)}" data-id="${esc(id)}">${esc(text)}</button>`;
  }

  // Route clicks on [data-act] buttons to handlers(id, button).
  function bindActions(root, handlers) {
    root.querySelectorAll("[data-act]").forEach(b => {
      const handler = handlers[b.dataset.act];
      if (handler) b.onclick = (event) => { event.preventDefault(); handler(b.dataset.id, b); };
    });
  }

  function badge(text, tone) { return `<span class="badge ${tone || ""}">${esc(text)}</span>`; }

  return { dialog, act, filters, bindFilters, pager, query, button, bindActions, badge };
})();
