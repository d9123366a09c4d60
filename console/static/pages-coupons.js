// 平台优惠券: platform coupon templates (alliance-wide): list, create, change, pause, end.
"use strict";
(() => {
  const { esc, fen, time, label, table, api } = Console;
  const W = Widgets;
  const STATUS = { active: "发放中", paused: "已暂停", ended: "已结束" };
  const TONE = { active: "ok", paused: "warn", ended: "" };
  const CHANNEL = { platform: "领券中心", points: "积分兑换" };

  function value(t) {
    if (t.kind === "fixed") return (t.threshold_fen ? "满" + fen(t.threshold_fen) + "减" : "立减") + fen(t.discount_fen);
    if (t.kind === "percent") return (t.threshold_fen ? "满" + fen(t.threshold_fen) + " " : "") + (100 - t.percent_off) / 10 + "折，最多减" + fen(t.max_discount_fen);
    return "服务券";
  }

  function validity(t) {
    return t.valid_days ? "领取后 " + t.valid_days + " 天" : time(t.valid_from) + " 至 " + time(t.valid_until);
  }

  const CREATE_FIELDS = [
    { name: "name", label: "名称", required: true },
    { name: "description", label: "说明", type: "textarea" },
    { name: "kind", label: "类型", type: "select", options: [["fixed", "满减券"], ["percent", "折扣券"]], value: "fixed" },
    { name: "threshold_fen", label: "使用门槛（元，0 为无门槛）", type: "money", value: 0 },
    { name: "discount_fen", label: "减免金额（元，满减券）", type: "money" },
    { name: "percent_off", label: "优惠百分比（折扣券，如 20 即 8 折）", type: "number" },
    { name: "max_discount_fen", label: "最多减（元，折扣券）", type: "money" },
    { name: "valid_days", label: "领取后有效天数", type: "number", hint: "或填写下面的固定有效期" },
    { name: "valid_from", label: "有效期开始", type: "datetime" },
    { name: "valid_until", label: "有效期结束", type: "datetime" },
    { name: "claim_ends_at", label: "领取截止", type: "datetime" },
    { name: "total_stock", label: "发放总量", type: "number", required: true },
    { name: "per_user_limit", label: "每人限领", type: "number", value: 1 },
    { name: "channels", label: "发放渠道", type: "checks", options: Object.entries(CHANNEL), value: ["platform"] },
    { name: "points_cost", label: "兑换所需积分（积分兑换时）", type: "number" },
  ];

  // Only the fields the chosen kind uses are sent; the server checks the rest.
  function createBody(v) {
    const body = { ...v, scope: "alliance" };
    if (v.kind === "fixed") { delete body.percent_off; delete body.max_discount_fen; } else delete body.discount_fen;
    if (!v.channels.includes("points")) delete body.points_cost;
    return body;
  }

  function editFields(t) {
    return [
      { name: "name", label: "名称", required: true, value: t.name },
      { name: "description", label: "说明", type: "textarea", value: t.description },
      { name: "total_stock", label: "发放总量", type: "number", required: true, value: t.total_stock },
      { name: "per_user_limit", label: "每人限领", type: "number", value: t.per_user_limit },
      { name: "claim_ends_at", label: "领取截止", type: "datetime", value: t.claim_ends_at },
    ];
  }

  Console.register({
    id: "coupons", title: "平台优惠券", permission: "admin:campaigns",
    async render(view, params) {
      const filters = W.filters("coupons", [
        { name: "status", label: "状态", options: [["", "全部"], ...Object.entries(STATUS)] },
      ], params);
      const page = await api("GET", "/api/admin/v1/coupon-templates" + W.query(params, ["status", "cursor"]));
      view.innerHTML = `<div class="card"><h3>平台优惠券 <button type="button" id="new-coupon" class="small">新建优惠券</button></h3>${filters}${table([
        { title: "ID", value: t => t.id },
        { title: "名称", html: t => esc(t.name) + (t.description ? `<br><small class="muted">${esc(t.description)}</small>` : "") },
        { title: "面额", value: value },
        { title: "有效期", value: validity },
        { title: "渠道", value: t => t.channels.map(c => label(CHANNEL, c)).join("、") + (t.points_cost ? "（" + t.points_cost + " 积分）" : "") },
        { title: "已领 / 已用 / 总量", value: t => `${t.issued} / ${t.used} / ${t.total_stock}` },
        { title: "每人限领", value: t => t.per_user_limit },
        { title: "状态", html: t => W.badge(label(STATUS, t.status), TONE[t.status]) },
        { title: "操作", html: t => t.status === "ended" ? "" : [W.button("edit", t.id, "修改", "secondary"),
          t.status === "active" ? W.button("pause", t.id, "暂停", "secondary") : W.button("resume", t.id, "恢复"),
          W.button("end", t.id, "结束", "danger")].join(" ") },
      ], page.items)}${W.pager("coupons", params, page.next_cursor)}</div>`;
      W.bindFilters(view);
      const find = id => page.items.find(t => String(t.id) === id);
      view.querySelector("#new-coupon").onclick = () => W.act({ title: "新建平台优惠券", fields: CREATE_FIELDS, confirm: "创建", done: "优惠券已创建",
        action: v => Console.create("/api/admin/v1/coupon-templates", createBody(v)) });
      W.bindActions(view, {
        edit: id => W.act({ title: "修改优惠券 #" + id, fields: editFields(find(id)), confirm: "保存", done: "已保存",
          action: v => api("PATCH", `/api/admin/v1/coupon-templates/${id}`, { ...v, claim_ends_at: v.claim_ends_at || null }) }),
        pause: id => W.act({ title: "暂停发放 #" + id, message: "暂停后消费者不能再领取，已领取的券仍可使用。", confirm: "暂停", danger: true, done: "已暂停",
          action: () => api("PATCH", `/api/admin/v1/coupon-templates/${id}`, { status: "paused" }) }),
        resume: id => W.act({ title: "恢复发放 #" + id, message: "恢复后消费者可以继续领取。", confirm: "恢复", done: "已恢复",
          action: () => api("PATCH", `/api/admin/v1/coupon-templates/${id}`, { status: "active" }) }),
        end: id => W.act({ title: "结束优惠券 #" + id, message: "结束后不能再领取，也不能再修改或恢复。确定结束？", confirm: "结束", danger: true, done: "已结束",
          action: () => api("PATCH", `/api/admin/v1/coupon-templates/${id}`, { status: "ended" }) }),
      });
    },
  });
})();
