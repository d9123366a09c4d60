// 售后仲裁 and 投诉与建议: disputed after-sale requests, consumers' complaints and suggestions.
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const AS_STATUS = { requested: "待商家处理", approved: "商家已同意", returned: "已退货", rejected: "商家已拒绝", arbitrating: "待平台仲裁", refunding: "退款中", refunded: "已退款", failed: "退款失败", closed: "已关闭" };
  const AS_TONE = { arbitrating: "warn", failed: "bad", refunded: "ok", closed: "" };
  const AS_KIND = { refund: "仅退款", return_refund: "退货退款" };
  const C_STATUS = { open: "待处理", resolved: "已解决", dismissed: "已驳回" };
  const C_CATEGORY = { quality: "质量问题", service: "服务态度", fraud: "欺诈", refund: "退款纠纷", other: "其他", suggestion: "意见建议" };

  function photos(urls) {
    return (urls || []).map((u, i) => `<a href="${esc(u)}" target="_blank" rel="noopener">图${i + 1}</a>`).join(" ");
  }

  Console.register({
    id: "after-sales", title: "售后仲裁", permission: "admin:complaints",
    async render(view, params) {
      const status = params.get("status") || "arbitrating";
      const filters = W.filters("after-sales", [
        { name: "status", label: "状态", value: "arbitrating", options: [["all", "全部"], ...Object.entries(AS_STATUS)] },
      ], params);
      const page = await api("GET", "/api/admin/v1/after-sales" + W.query(params, ["cursor"], status === "all" ? {} : { status }));
      view.innerHTML = `<div class="card"><h3>售后仲裁</h3>${filters}${table([
        { title: "ID", value: a => a.id },
        { title: "订单", html: a => `<a href="#/orders?no=${encodeURIComponent(a.order_no)}">${esc(a.order_no)}</a>` },
        { title: "类型", value: a => label(AS_KIND, a.kind) },
        { title: "金额", value: a => fen(a.amount_fen) },
        { title: "消费者理由", html: a => esc(a.reason) + (a.photo_urls.length ? "<br>" + photos(a.photo_urls) : "") },
        { title: "商家意见", value: a => a.merchant_note || "—" },
        { title: "申请仲裁理由", value: a => a.arbitration_reason || "—" },
        { title: "状态", html: a => W.badge(label(AS_STATUS, a.status), AS_TONE[a.status]) + (a.arbitration_note ? `<br><small class="muted">裁决：${esc(a.arbitration_note)}</small>` : "") },
        { title: "申请时间", value: a => time(a.created_at) },
        { title: "操作", html: a => ["arbitrating", "failed"].includes(a.status) ? W.button("refund", a.id, "支持退款") + " " + W.button("close", a.id, "驳回申请", "danger") : "" },
      ], page.items)}${W.pager("after-sales", params, page.next_cursor)}</div>`;
      W.bindFilters(view);
      const find = id => page.items.find(a => String(a.id) === id);
      W.bindActions(view, {
        refund: id => W.act({ title: "仲裁：支持退款 #" + id, message: "平台将向消费者退款，此决定不可撤销。", confirm: "确认退款", danger: true, done: "已裁决退款",
          fields: [{ name: "amount_fen", label: "退款金额（元）", type: "money", value: find(id).amount_fen, hint: "默认为申请金额" },
                   { name: "note", label: "裁决说明", type: "textarea", required: true }],
          action: v => api("POST", `/api/admin/v1/after-sales/${id}/arbitration`, { refund: true, note: v.note, ...(v.amount_fen ? { amount_fen: v.amount_fen } : {}) }) }),
        close: id => W.act({ title: "仲裁：驳回申请 #" + id, message: "售后申请将关闭，不退款，此决定不可撤销。", confirm: "驳回", danger: true, done: "已驳回",
          fields: [{ name: "note", label: "裁决说明", type: "textarea", required: true }],
          action: v => api("POST", `/api/admin/v1/after-sales/${id}/arbitration`, { refund: false, note: v.note }) }),
      });
    },
  });

  Console.register({
    id: "complaints", title: "投诉与建议", permission: "admin:complaints",
    async render(view, params) {
      const status = params.get("status") || "open";
      const category = params.get("category") || "all";
      const filters = W.filters("complaints", [
        { name: "status", label: "状态", value: "open", options: [["all", "全部"], ...Object.entries(C_STATUS)] },
        { name: "category", label: "类别", value: "all", options: [["all", "全部"], ...Object.entries(C_CATEGORY)] },
      ], params);
      const page = await api("GET", "/api/admin/v1/complaints" + W.query(params, ["cursor"],
        { ...(status === "all" ? {} : { status }), ...(category === "all" ? {} : { category }) }));
      view.innerHTML = `<div class="card"><h3>投诉与建议 <small class="muted">处理结果会通知提交人</small></h3>${filters}${table([
        { title: "ID", value: c => c.id },
        { title: "商户", html: c => c.merchant_id ? `<a href="#/merchants?id=${c.merchant_id}">#${c.merchant_id}</a>` : `<span class="muted">平台</span>` },
        { title: "类别", value: c => label(C_CATEGORY, c.category) },
        { title: "内容", html: c => esc(c.content) + (c.photo_count ? `<br><small class="muted">附图 ${c.photo_count} 张</small>` : "") },
        { title: "状态", html: c => W.badge(label(C_STATUS, c.status), c.status === "open" ? "warn" : "") + (c.resolution ? `<br><small class="muted">${esc(c.resolution)}</small>` : "") },
        { title: "提交时间", value: c => time(c.created_at) },
        { title: "操作", html: c => c.status === "open" ? W.button("resolve", c.id, "处理") : "" },
      ], page.items)}${W.pager("complaints", params, page.next_cursor)}</div>`;
      W.bindFilters(view);
      W.bindActions(view, {
        resolve: id => W.act({ title: "处理 #" + id, message: "处理结果会记入审计日志并通知提交人，处理后不可更改。", confirm: "提交", danger: true, done: "已处理",
          fields: [{ name: "outcome", label: "结论", type: "select", options: [["resolved", "已解决（投诉成立）"], ["dismissed", "驳回（投诉不成立）"]], value: "resolved" },
                   { name: "resolution", label: "处理说明", type: "textarea", required: true }],
          action: v => api("POST", `/api/admin/v1/complaints/${id}/resolution`, { outcome: v.outcome, resolution: v.resolution }) }),
      });
    },
  });
})();
