// Benchmark page: one uPlot chart per variant and metric. The page embeds its charts and
// events as JSON; the points come from the history chunks (chunks.js), which are joined
// here, keeping only the runs where this page has a value. Text from the store goes into
// the DOM through textContent only.
(function () {
  "use strict";
  var data = (window.perfciData = assemble(
    JSON.parse(document.getElementById("perfci-page").textContent), window.perfciChunks || []));
  var repo = JSON.parse(document.getElementById("perfci-repo").textContent);
  var tip = document.getElementById("tip");
  var charts = (window.perfciCharts = {});
  var byId = {};
  data.variants.forEach(function (v) { v.charts.forEach(function (c) { byId[c.id] = c; }); });

  // Chunks → {commits, runs, machines, variants} with one x per run that has a point.
  function assemble(page, chunks) {
    var at = {}, positions = [];
    chunks.forEach(function (chunk) {
      Object.keys(chunk.runs).forEach(function (p) { at[p] = chunk.runs[p]; positions.push(+p); });
    });
    positions.sort(function (a, b) { return a - b; });
    var x = {}, commits = [], commitOf = {}, runs = [], machineIds = Object.keys(page.machines);
    var machineIndex = {};
    machineIds.forEach(function (m, i) { machineIndex[m] = i; });
    positions.forEach(function (p, i) {
      var r = at[p];
      x[p] = i;
      if (!(r[0] in commitOf)) { commitOf[r[0]] = commits.length; commits.push([r[0], r[1], r[2]]); }
      runs.push([commitOf[r[0]], machineIndex[r[3]], r[4], r[5]]);
    });
    var n = runs.length;
    function place(p) {  // an event at a run this page lacks: the next run it has
      if (p == null) return null;
      for (var i = 0; i < positions.length; i++) if (positions[i] >= p) return i;
      return null;
    }
    page.variants.forEach(function (v) {
      v.charts.forEach(function (c) {
        var series = {};
        chunks.forEach(function (chunk) {
          var part = chunk.charts[c.id];
          if (!part) return;
          Object.keys(part).forEach(function (m) {
            var s = series[m];
            if (!s) s = series[m] = { machine: machineIndex[m], median: new Array(n).fill(null),
              q1: new Array(n).fill(null), q3: new Array(n).fill(null) };
            var values = part[m];
            for (var i = 0; i < values[0].length; i++) {
              if (values[0][i] == null) continue;
              var k = x[chunk.start + i];
              s.median[k] = values[0][i]; s.q1[k] = values[1][i]; s.q3[k] = values[2][i];
            }
          });
        });
        c.series = Object.keys(series).sort(function (a, b) { return a - b; })
          .map(function (m) { return series[m]; });
        c.events = c.events.map(function (e) { return Object.assign({}, e, { x: place(e.x) }); });
      });
    });
    return { commits: commits, runs: runs, variants: page.variants,
      machines: machineIds.map(function (m) { return page.machines[m]; }) };
  }

  var SCALES = {
    s: [[1e-9, "ns"], [1e-6, "µs"], [1e-3, "ms"], [1, "s"]],
    bytes: [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]]
  };
  function fmt(value, unit) {
    if (value == null) return "–";
    var scales = SCALES[unit];
    if (!scales) return Number(value.toPrecision(3)) + " " + unit;
    var pick = scales[0];
    for (var i = 0; i < scales.length; i++) {
      if (Math.abs(value) >= scales[i][0] * 0.9995 || i === 0) pick = scales[i];
    }
    return Number((value / pick[0]).toPrecision(3)) + " " + pick[1];
  }
  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function alpha(color, a) {
    var m = /^#([0-9a-f]{6})$/i.exec(color);
    if (!m) return color;
    var n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  // The nearest x (run) around idx where some machine has a value.
  function nearest(u, idx) {
    for (var d = 0; d < u.data[0].length; d++) {
      for (var k = -1; k <= 1; k += 2) {
        var i = idx + k * d;
        for (var s = 3; s < u.data.length; s += 3) {
          if (u.data[s][i] != null) return { idx: i, series: s };
        }
      }
    }
    return null;
  }

  function showTip(u, chart) {
    var idx = u.cursor.idx;
    if (idx == null || u.cursor.left < 0) { tip.hidden = true; return; }
    var hit = nearest(u, idx);
    if (!hit) { tip.hidden = true; return; }
    var run = data.runs[hit.idx], commit = data.commits[run[0]];
    var s = hit.series;
    tip.textContent = "";
    var head = document.createElement("b");
    head.textContent = commit[0].slice(0, 10) + " " + commit[1];
    tip.appendChild(head);
    [
      commit[2] + " · run " + run[3] + " · " + data.machines[run[1]],
      chart.metric + ": " + fmt(u.data[s][hit.idx], chart.unit),
      "interquartile range: " + fmt(u.data[s - 2][hit.idx], chart.unit) + " – " +
        fmt(u.data[s - 1][hit.idx], chart.unit)
    ].forEach(function (line) {
      var div = document.createElement("div");
      div.textContent = line;
      tip.appendChild(div);
    });
    tip.dataset.sha = commit[0];
    tip.hidden = false;
    var box = u.over.getBoundingClientRect();
    var left = box.left + u.cursor.left + 14, top = box.top + u.cursor.top + 14;
    if (left + tip.offsetWidth > window.innerWidth) left = Math.max(0, left - tip.offsetWidth - 28);
    if (top + tip.offsetHeight > window.innerHeight) top = Math.max(0, top - tip.offsetHeight - 28);
    tip.style.left = left + "px";
    tip.style.top = top + "px";
    u.perfciHit = hit;
  }

  function eventsPlugin(chart) {
    var colors = { regression: "--worse", improvement: "--better", environment: "--env" };
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.lineWidth = 1.5 * devicePixelRatio;
          chart.events.forEach(function (e) {
            if (e.x == null || e.x < u.scales.x.min || e.x > u.scales.x.max) return;
            var x = Math.round(u.valToPos(e.x, "x", true));
            ctx.strokeStyle = css(colors[e.kind] || "--muted");
            ctx.setLineDash(e.kind === "environment" ? [4 * devicePixelRatio, 4 * devicePixelRatio] : []);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }
      }
    };
  }

  function zoomPan(u, n) {
    function setRange(min, max) {
      var width = max - min;
      if (width > n - 1) { min = 0; max = n - 1; }
      if (min < 0) { max -= min; min = 0; }
      if (max > n - 1) { min -= max - (n - 1); max = n - 1; }
      u.setScale("x", { min: Math.max(0, min), max: max });
    }
    u.over.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var min = u.scales.x.min, max = u.scales.x.max, width = max - min;
      if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        var shift = (ev.deltaX || ev.deltaY) > 0 ? width * 0.2 : -width * 0.2;
        setRange(min + shift, max + shift);
        return;
      }
      var at = u.posToVal(ev.offsetX, "x");
      var factor = ev.deltaY < 0 ? 0.75 : 1 / 0.75;
      var newWidth = Math.max(width * factor, 4);
      var left = (at - min) / width;
      setRange(at - left * newWidth, at + (1 - left) * newWidth);
    }, { passive: false });
    u.perfciPan = function (dir) {
      var min = u.scales.x.min, max = u.scales.x.max, width = max - min;
      setRange(min + dir * width * 0.5, max + dir * width * 0.5);
    };
    u.perfciReset = function () { setRange(0, n - 1); };
  }

  function build(figure) {
    var chart = byId[figure.dataset.chart];
    var plot = figure.querySelector(".plot");
    var n = data.runs.length;
    var xs = new Array(n);
    for (var i = 0; i < n; i++) xs[i] = i;
    var aligned = [xs];
    var series = [{ label: "run" }];
    var bands = [];
    chart.series.forEach(function (s, k) {
      var color = css("--s" + (s.machine % 5));
      var name = data.machines[s.machine];
      aligned.push(s.q1, s.q3, s.median);
      series.push(
        { label: name + " q1", stroke: "transparent", points: { show: false }, spanGaps: true },
        { label: name + " q3", stroke: "transparent", points: { show: false }, spanGaps: true },
        {
          label: name, stroke: color, width: 1.5, spanGaps: true,
          points: { show: true, size: 3, fill: color, stroke: color },
          value: function (u, v) { return fmt(v, chart.unit); }
        }
      );
      bands.push({ series: [2 + 3 * k, 1 + 3 * k], fill: alpha(color, css("--band")) });
    });
    var axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { stroke: css("--line") } };
    var opts = {
      width: Math.max(plot.clientWidth, 240),
      height: 260,
      scales: { x: { time: false } },
      series: series,
      bands: bands,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 7 } },
      axes: [
        Object.assign({}, axis, {
          space: 90,
          values: function (u, ticks) {
            return ticks.map(function (t) {
              var run = data.runs[Math.round(t)];
              return run ? run[2].slice(0, 10) : "";
            });
          }
        }),
        Object.assign({}, axis, {
          size: 70,
          values: function (u, ticks) { return ticks.map(function (t) { return fmt(t, chart.unit); }); }
        })
      ],
      hooks: { setCursor: [function (u) { showTip(u, chart); }] },
      plugins: [eventsPlugin(chart)]
    };
    plot.textContent = "";
    var u = new uPlot(opts, aligned, plot);
    zoomPan(u, n);
    var down = null;
    u.over.addEventListener("mousedown", function (ev) { down = [ev.clientX, ev.clientY]; });
    u.over.addEventListener("mouseleave", function () { tip.hidden = true; });
    u.over.addEventListener("click", function (ev) {
      var moved = !down || Math.abs(ev.clientX - down[0]) + Math.abs(ev.clientY - down[1]) > 4;
      if (moved || !repo || !u.perfciHit) return;
      var sha = data.commits[data.runs[u.perfciHit.idx][0]][0];
      window.open(repo.replace(/\/$/, "") + "/commit/" + sha, "_blank", "noopener");
    });
    figure.querySelector("[data-pan='-1']").onclick = function () { u.perfciPan(-1); };
    figure.querySelector("[data-pan='1']").onclick = function () { u.perfciPan(1); };
    figure.querySelector("[data-reset]").onclick = function () { u.perfciReset(); };
    charts[chart.id] = u;
    return u;
  }

  function buildAll() {
    Object.keys(charts).forEach(function (id) { charts[id].destroy(); delete charts[id]; });
    document.querySelectorAll("figure.chart").forEach(build);
  }
  buildAll();
  document.addEventListener("perfci-theme", buildAll);
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", buildAll);
  }
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      document.querySelectorAll("figure.chart").forEach(function (f) {
        var u = charts[f.dataset.chart];
        if (u) u.setSize({ width: Math.max(f.querySelector(".plot").clientWidth, 240), height: 260 });
      });
    }, 100);
  });
  document.documentElement.dataset.chartsReady = "1";
})();
