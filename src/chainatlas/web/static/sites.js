/* 载体 map: parks as outlines drawn from their sites' coordinates (no online tiles), sites coloured by status.
   Loaded only on the sites page; page data comes from <script type="application/json" id="page-data">. */
(function () {
  "use strict";
  var FONT = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function render(data) {
    var el = document.getElementById("sites-map");
    if (!el || !window.echarts) return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    // tests and the bench wait for this flag; "finished" may fire inside setOption, so listen first
    chart.on("finished", function () { document.body.setAttribute("data-chart-ready", "1"); });
    window.addEventListener("resize", function () { chart.resize(); });
    var xs = [], ys = [];
    data.points.forEach(function (p) { xs.push(p.value[0]); ys.push(p.value[1]); });
    data.outlines.forEach(function (o) { o.polygon.forEach(function (c) { xs.push(c[0]); ys.push(c[1]); }); });
    var pad = 0.003;
    var bounds = xs.length ? [Math.min.apply(null, xs) - pad, Math.max.apply(null, xs) + pad,
                              Math.min.apply(null, ys) - pad, Math.max.apply(null, ys) + pad] : [0, 1, 0, 1];
    var outlines = data.outlines.map(function (o) {
      return { name: o.name, firms: o.firms, coords: o.polygon };
    });
    var byStatus = {};
    data.points.forEach(function (p) { (byStatus[p.status] = byStatus[p.status] || []).push(p); });
    var series = [{
      type: "custom", name: "园区", silent: true, z: 1,
      renderItem: function (params, api) {
        var o = outlines[params.dataIndex];
        var pts = o.coords.map(function (c) { return api.coord(c); });
        var cx = 0, cy = 0; pts.forEach(function (p) { cx += p[0]; cy += p[1]; });
        cx /= pts.length; cy /= pts.length;
        return { type: "group", children: [
          { type: "polygon", shape: { points: pts }, style: { fill: "rgba(23,86,169,.06)", stroke: "#7aa2d8", lineWidth: 1.5, lineDash: [6, 4] } },
          { type: "text", style: { text: o.name + "（" + o.firms + "家）", x: cx, y: Math.min.apply(null, pts.map(function (p) { return p[1]; })) - 4,
            textAlign: "center", textVerticalAlign: "bottom", fill: "#1756a9", font: "12px " + FONT } }
        ] };
      },
      data: outlines.map(function (_, i) { return i; })
    }];
    Object.keys(data.colors).forEach(function (status) {
      series.push({
        type: "scatter", name: status, z: 3, symbolSize: function (v, p) { return p.data.kind === "land" ? 14 : 11; },
        symbol: "circle", itemStyle: { color: data.colors[status], borderColor: "#fff", borderWidth: 1 },
        data: (byStatus[status] || []).map(function (p) {
          return { value: p.value, name: p.name, code: p.code, kind: p.kind, kind_zh: p.kind_zh, area: p.area, project: p.project,
                   symbol: p.kind === "land" ? "rect" : (p.kind === "office" ? "triangle" : "circle") };
        }),
        labelLayout: { hideOverlap: true }
      });
    });
    chart.setOption({
      animation: false, textStyle: { fontFamily: FONT },
      legend: { top: 0, data: Object.keys(data.colors) },
      tooltip: { trigger: "item", formatter: function (p) {
        var d = p.data || {};
        return "<b>" + esc(d.name) + "</b>（" + esc(d.code) + "）<br>" + esc(d.kind_zh) + " · " + esc(d.area) + " · " + esc(p.seriesName) +
          (d.project ? "<br>项目：" + esc(d.project) : "");
      } },
      grid: { left: 10, right: 10, top: 34, bottom: 10, containLabel: false },
      xAxis: { type: "value", min: bounds[0], max: bounds[1], show: false, scale: true },
      yAxis: { type: "value", min: bounds[2], max: bounds[3], show: false, scale: true },
      series: series
    });
    chart.on("click", function (p) { if (p.data && p.data.code) window.location.href = "/sites/" + encodeURIComponent(p.data.code); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.getAttribute("data-page") !== "sites") return;
    var el = document.getElementById("page-data");
    if (el) render(JSON.parse(el.textContent));
  });
})();
