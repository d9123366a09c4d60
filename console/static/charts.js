// Small inline-SVG charts (bar, line, pie): each returns an SVG string; no libraries.
"use strict";
const Charts = (() => {
  const COLORS = ["#2d7ff9", "#20c997", "#f59f00", "#e5484d", "#845ef7", "#15aabf", "#fa5252", "#82c91e", "#868e96"];
  const { esc } = Console;

  // The axis top: four round, whole ticks above the data (at least `floor`, so an empty chart
  // still has an axis).
  function niceMax(value, floor) {
    const raw = Math.max(value, floor || 4) / 4;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map(m => m * power).find(m => m >= raw);
    return Math.ceil(step) * 4;
  }

  function frame(width, height, inner) {
    return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet" role="img">${inner}</svg>`;
  }

  // Which category labels fit under the axis: about eight, always the first.
  function shown(count) {
    const every = Math.max(1, Math.ceil(count / 8));
    return i => i % every === 0;
  }

  function axis(left, top, plotW, plotH, max, format) {
    let out = "";
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      out += `<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`;
      out += `<text x="${left - 6}" y="${y + 4}" text-anchor="end" class="tick">${esc(format((max * i) / 4))}</text>`;
    }
    return out;
  }

  function legend(names, x, y) {
    return names.map((n, i) => `<rect x="${x + i * 110}" y="${y - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + i * 110 + 14}" y="${y}" class="tick">${esc(n)}</text>`).join("");
  }

  // bar({labels, series: [{name, values}], format, stacked}): vertical bars, grouped or stacked.
  function bar({ labels, series, format = String, stacked = false, floor, width = 560, height = 260 }) {
    const left = 56, top = 24, plotW = width - left - 12, plotH = height - top - 48;
    const totals = labels.map((_, i) => stacked ? series.reduce((s, x) => s + x.values[i], 0) : Math.max(...series.map(x => x.values[i])));
    const max = niceMax(Math.max(0, ...totals), floor);
    const label = shown(labels.length);
    const slot = plotW / Math.max(labels.length, 1);
    const barW = Math.min(48, (slot * 0.7) / (stacked ? 1 : series.length));
    let out = axis(left, top, plotW, plotH, max, format);
    labels.forEach((name, i) => {
      let base = top + plotH;
      series.forEach((s, k) => {
        const h = (plotH * s.values[i]) / max;
        const x = left + slot * i + (slot - barW * (stacked ? 1 : series.length)) / 2 + (stacked ? 0 : k * barW);
        const y = stacked ? base - h : top + plotH - h;
        if (stacked) base -= h;
        out += `<rect x="${x}" y="${y}" width="${barW - 2}" height="${h}" fill="${COLORS[k % COLORS.length]}"><title>${esc(name)} · ${esc(s.name)}：${esc(format(s.values[i]))}</title></rect>`;
      });
      if (label(i)) out += `<text x="${left + slot * i + slot / 2}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${esc(name)}</text>`;
    });
    if (series.length > 1) out += legend(series.map(s => s.name), left, height - 8);
    return frame(width, height, out);
  }

  // line({labels, series: [{name, values}], format}): one polyline per series.
  function line({ labels, series, format = String, floor, width = 560, height = 260 }) {
    const left = 56, top = 24, plotW = width - left - 16, plotH = height - top - 48;
    const max = niceMax(Math.max(0, ...series.flatMap(s => s.values)), floor);
    const x = i => left + (labels.length > 1 ? (plotW * i) / (labels.length - 1) : plotW / 2);
    const y = v => top + plotH - (plotH * v) / max;
    let out = axis(left, top, plotW, plotH, max, format);
    const label = shown(labels.length);
    labels.forEach((name, i) => {
      if (label(i)) out += `<text x="${x(i)}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${esc(name)}</text>`;
    });
    series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      out += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${s.values.map((v, i) => x(i) + "," + y(v)).join(" ")}"/>`;
      out += s.values.map((v, i) => `<circle cx="${x(i)}" cy="${y(v)}" r="2.5" fill="${color}"><title>${esc(labels[i])} · ${esc(s.name)}：${esc(format(v))}</title></circle>`).join("");
    });
    out += legend(series.map(s => s.name), left, height - 8);
    return frame(width, height, out);
  }

  // pie({items: [{label, value}], format}): slices with a legend of shares.
  function pie({ items, format = String, width = 560, height = 260 }) {
    const total = items.reduce((s, i) => s + i.value, 0);
    const cx = 130, cy = height / 2, r = Math.min(110, height / 2 - 10);
    let out = "";
    if (total <= 0) out += `<circle cx="${cx}" cy="${cy}" r="${r}" fill="#f1f3f5"/><text x="${cx}" y="${cy + 4}" text-anchor="middle" class="tick">暂无数据</text>`;
    let angle = -Math.PI / 2;
    items.forEach((item, k) => {
      if (total <= 0 || item.value <= 0) return;
      const color = COLORS[k % COLORS.length];
      const tip = `<title>${esc(item.label)}：${esc(format(item.value))}</title>`;
      if (item.value === total) { out += `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${color}">${tip}</circle>`; return; }
      const end = angle + (2 * Math.PI * item.value) / total;
      const large = end - angle > Math.PI ? 1 : 0;
      const p = a => `${cx + r * Math.cos(a)},${cy + r * Math.sin(a)}`;
      out += `<path d="M${cx},${cy} L${p(angle)} A${r},${r} 0 ${large} 1 ${p(end)} Z" fill="${color}" stroke="#fff">${tip}</path>`;
      angle = end;
    });
    items.forEach((item, k) => {
      const share = total > 0 ? ((item.value * 100) / total).toFixed(1) + "%" : "—";
      out += `<rect x="270" y="${30 + k * 24}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/><text x="288" y="${40 + k * 24}" class="tick">${esc(item.label)}　${esc(format(item.value))}（${share}）</text>`;
    });
    return frame(width, height, out);
  }

  return { bar, line, pie };
})();
