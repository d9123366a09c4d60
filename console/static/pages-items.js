// 商品审核: the review queue (new items, pending changes), approve, reject, take down.
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const STATUS = { draft: "草稿", pending_review: "待审核", on_shelf: "已上架", off_shelf: "已下架", rejected: "已驳回", taken_down: "违规下架" };
  const TONE = { pending_review: "warn", on_shelf: "ok", rejected: "bad", taken_down: "bad" };
  const KIND = { goods: "商品", service: "服务" };
  const CHANGE = { name: "名称", price_fen: "价格", image_urls: "图片" };

  function inReview(item) { return item.status === "pending_review" || item.review_pending; }

  function changes(item) {
    const entries = Object.entries(item.pending_changes || {});
    if (!entries.length) return "";
    return "<br><small class=warn-text>待审修改：" + entries.map(([k, v]) => esc(label(CHANGE, k)) + " → " +
      (k === "price_fen" ? esc(fen(v)) : Array.isArray(v) ? v.map(u => `<a href="${esc(u)}" target="_blank" rel="noopener">图</a>`).join(" ") : esc(v))).join("；") + "</small>";
  }

  function images(item) {
    return (item.image_urls || []).slice(0, 3).map(u => `<a href="${esc(u)}" target="_blank" rel="noopener"><img class="thumb" src="${esc(u)}" alt=""></a>`).join("");
  }

  function actions(item) {
    const out = [];
    if (inReview(item)) out.push(W.button("approve", item.id, "通过"), W.button("reject", item.id, "驳回", "danger"));
    if (item.status !== "taken_down") out.push(W.button("take-down", item.id, "违规下架", "danger"));
    return out.join(" ");
  }

  Console.register({
    id: "items", title: "商品审核", permission: "admin:merchants",
    async render(view, params) {
      const review = params.get("review") || "pending";
      const filters = W.filters("items", [
        { name: "review", label: "范围", value: "pending", options: [["pending", "待审核"], ["all", "全部商品"]] },
        { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
        { name: "kind", label: "类型", options: [["", "全部"], ...Object.entries(KIND)] },
        { name: "merchant_id", label: "商户ID", type: "number" },
        { name: "q", label: "搜索", placeholder: "商品名称" },
      ], params);
      const page = await api("GET", "/api/admin/v1/items" + W.query(params, ["status", "kind", "merchant_id", "q", "cursor"], { review }));
      view.innerHTML = `<div class="card"><h3>商品审核</h3>${filters}${table([
        { title: "ID", value: i => i.id },
        { title: "商品", html: i => `${images(i)} ${esc(i.name)}${i.description ? `<br><small class="muted">${esc(i.description.slice(0, 60))}</small>` : ""}${changes(i)}` },
        { title: "商户", html: i => `<a href="#/merchants?id=${i.merchant_id}">#${i.merchant_id}</a>` },
        { title: "类型", value: i => label(KIND, i.kind) + (i.category ? " · " + i.category : "") },
        { title: "价格", value: i => fen(i.price_fen) },
        { title: "库存", value: i => i.stock },
        { title: "状态", html: i => W.badge(label(STATUS, i.status), TONE[i.status]) + (i.review_pending ? " " + W.badge("修改待审", "warn") : "") + (i.review_note ? `<br><small class="muted">${esc(i.review_note)}</small>` : "") },
        { title: "更新时间", value: i => time(i.updated_at) },
        { title: "操作", html: actions },
      ], page.items)}${W.pager("items", params, page.next_cursor)}</div>`;
      W.bindFilters(view);
      W.bindActions(view, {
        approve: id => W.act({ title: "通过商品 #" + id, message: "新商品会上架；待审修改会生效。", confirm: "通过", done: "已通过",
          action: () => api("POST", `/api/admin/v1/items/${id}/approve`, {}) }),
        reject: id => W.act({ title: "驳回商品 #" + id, message: "新商品会被驳回；待审修改会被撤销。原因会通知商户。", confirm: "驳回", danger: true, done: "已驳回",
          fields: [{ name: "reason", label: "驳回原因", type: "textarea", required: true }],
          action: v => api("POST", `/api/admin/v1/items/${id}/reject`, { reason: v.reason }) }),
        "take-down": id => W.act({ title: "违规下架商品 #" + id, message: "商品将立即下架，商户不能自行重新上架。", confirm: "下架", danger: true, done: "已下架",
          fields: [{ name: "reason", label: "违规说明", type: "textarea", required: true }],
          action: v => api("POST", `/api/admin/v1/items/${id}/take-down`, { reason: v.reason }) }),
      });
    },
  });
})();
