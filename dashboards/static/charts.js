// Benchmark page: one uPlot chart per variant and metric. The page embeds its charts and
// events as JSON; the points come from the history chunks (chunks.js), which are joined
// here, keeping only the commits where this page has a value. x is a commit, in the
// branch's first-parent order: every run of a commit is a point at its x, the line goes
// through the median of the commit's runs. Text from the store goes into the DOM through
// textContent only.
(function () {
  "use strict";
  var data = (window.perfciData = assemble(
    JSON.parse(document.getElementById("perfci-page").textContent), window.perfciChunks || []));
  var repo = JSON.parse(document.getElementById("perfci-repo").textContent);
  var tip = document.getElementById("tip");
  var charts = (window.perfciCharts = {});
  var byId = {};
  data.variants.forEach(function (v) { v.charts.forEach(function (c) { byId[c.id] = c; }); });

  // Chunks → {commits, machines, variants}, one x per commit that has a point: commits[x] is
  // [sha, subject, date, runs], each run [id, machine index, stored at]; a chart's series
  // per machine has median, q1, q3 per x and `runs` {x: [[run id, median, q1, q3], ...]}
  // where its values at x are not from that machine's only run there.
  function assemble(page, chunks) {
    var at = {}, positions = [];
    chunks.forEach(function (chunk) {
      Object.keys(chunk.commits).forEach(function (p) { at[p] = chunk.commits[p]; positions.push(+p); });
    });
    positions.sort(function (a, b) { return a - b; });
    var x = {}, commits = [], machineIds = Object.keys(page.machines), machineIndex = {};
    machineIds.forEach(function (m, i) { machineIndex[m] = i; });
    positions.forEach(function (p, i) {
      var c = at[p];
      x[p] = i;
      commits.push([c[0], c[1], c[2], c[3].map(function (r) { return [r[0], machineIndex[r[1]], r[2]]; })]);
    });
    var n = commits.length;
    function place(p) {  // an event at a commit this page lacks: the next commit it has
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
              q1: new Array(n).fill(null), q3: new Array(n).fill(null), runs: {} };
            var values = part[m], more = values[3] || {};
            for (var i = 0; i < values[0].length; i++) {
              if (values[0][i] == null) continue;
              var k = x[chunk.start + i];
              s.median[k] = values[0][i]; s.q1[k] = values[1][i]; s.q3[k] = values[2][i];
              if (more[i]) s.runs[k] = more[i];
            }
          });
        });
        c.series = Object.keys(series).sort(function (a, b) { return a - b; })
          .map(function (m) { return series[m]; });
        c.events = c.events.map(function (e) { return Object.assign({}, e, { x: place(e.x) }); });
      });
    });
    return { commits: commits, variants: page.variants,
      machines: machineIds.map(function (m) { return page.machines[m]; }) };
  }

  // The runs behind a series' value at x: [[run id, median, q1, q3, stored at], ...].
  function runsAt(s, x) {
    var listed = data.commits[x][3], stored = {};
    listed.forEach(function (r) { stored[r[0]] = r[2]; });
    if (s.runs[x]) return s.runs[x].map(function (r) { return r.concat([stored[r[0]]]); });
    var own = listed.filter(function (r) { return r[1] === s.machine; })[0];
    return [[own ? own[0] : null, s.median[x], s.q1[x], s.q3[x], own ? own[2] : ""]];
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

  // The nearest x (commit) around idx where some machine has a value.
  function nearest(u, idx, medians) {
    for (var d = 0; d < u.data[0].length; d++) {
      for (var k = -1; k <= 1; k += 2) {
        var i = idx + k * d;
        for (var s = 3; s <= medians; s += 3) {
          if (u.data[s][i] != null) return { idx: i, series: s };
        }
      }
    }
    return null;
  }

  function line(text, cls) {
    var div = document.createElement("div");
    div.textContent = text;
    if (cls) div.className = cls;
    tip.appendChild(div);
  }

  function showTip(u, chart) {
    var idx = u.cursor.idx;
    if (idx == null || u.cursor.left < 0) { tip.hidden = true; return; }
    var hit = nearest(u, idx, 3 * chart.series.length);
    if (!hit) { tip.hidden = true; return; }
    var commit = data.commits[hit.idx];
    tip.textContent = "";
    var head = document.createElement("b");
    head.textContent = commit[0].slice(0, 10) + " " + commit[1];
    tip.appendChild(head);
    line("commit date " + commit[2]);
    chart.series.forEach(function (s) {
      if (s.median[hit.idx] == null) return;
      var name = data.machines[s.machine], runs = runsAt(s, hit.idx);
      if (runs.length > 1) {
        line(name + ": " + chart.metric + " " + fmt(s.median[hit.idx], chart.unit) +
          ", median of " + runs.length + " runs", "tip-machine");
        runs.forEach(function (r) {
          line("run " + r[0] + " (" + r[4] + "): " + fmt(r[1], chart.unit) +
            ", interquartile range " + fmt(r[2], chart.unit) + " – " + fmt(r[3], chart.unit), "tip-run");
        });
      } else {
        var r = runs[0];
        line(name + ": " + chart.metric + " " + fmt(r[1], chart.unit), "tip-machine");
        line("interquartile range: " + fmt(r[2], chart.unit) + " – " + fmt(r[3], chart.unit) +
          " · run " + r[0] + " (" + r[4] + ")", "tip-run");
      }
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

  // The y-axis is as wide as its longest label ("3100 items/s" is not cut to "0 items/s").
  var Y_FONT = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
  var measure = document.createElement("canvas").getContext("2d");
  function labelWidth(u, values) {
    if (!values || !values.length) return 50;
    measure.font = Y_FONT;
    var widest = 0;
    values.forEach(function (v) { widest = Math.max(widest, measure.measureText(v).width); });
    return Math.ceil(widest) + 18;
  }

  var INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

  function build(figure) {
    var chart = byId[figure.dataset.chart];
    var plot = figure.querySelector(".plot");
    var n = data.commits.length;
    var xs = new Array(n);
    for (var i = 0; i < n; i++) xs[i] = i;
    var aligned = [xs];
    var series = [{ label: "commit" }];
    var bands = [];
    var extra = [];  // every run where a commit has several: points at the commit's x
    chart.series.forEach(function (s, k) {
      var color = css("--s" + (s.machine % 5));
      var name = data.machines[s.machine];
      var several = Object.keys(s.runs).filter(function (x) { return s.runs[x].length > 1; });
      aligned.push(s.q1, s.q3, s.median);
      series.push(
        { label: name + " q1", stroke: "transparent", points: { show: false }, spanGaps: true },
        { label: name + " q3", stroke: "transparent", points: { show: false }, spanGaps: true },
        {
          label: name, stroke: color, width: 1.5, spanGaps: true,
          points: {
            show: true, size: 3, fill: color, stroke: color,
            // a commit with several runs shows them, not their median
            filter: several.length ? function (u, si) {
              var out = [];
              u.data[si].forEach(function (v, x) { if (v != null && !(s.runs[x] && s.runs[x].length > 1)) out.push(x); });
              return out;
            } : null
          },
          value: function (u, v) { return fmt(v, chart.unit); }
        }
      );
      bands.push({ series: [2 + 3 * k, 1 + 3 * k], fill: alpha(color, css("--band")) });
      var depth = 0;
      several.forEach(function (x) { depth = Math.max(depth, s.runs[x].length); });
      for (var j = 0; j < depth; j++) {
        var values = new Array(n).fill(null);
        several.forEach(function (x) { var r = s.runs[x][j]; if (r) values[+x] = r[1]; });
        extra.push([values, {
          label: name + " run " + (j + 1), stroke: color, width: 0, paths: function () { return null; },
          points: { show: true, size: 6, width: 1.5, stroke: color, fill: css("--card") }
        }]);
      }
    });
    extra.forEach(function (e) { aligned.push(e[0]); series.push(e[1]); });
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
          space: 64,
          incrs: INCRS,
          font: "11px ui-monospace, SFMono-Regular, Menlo, monospace",
          values: function (u, ticks) {
            return ticks.map(function (t) {
              var commit = Number.isInteger(t) ? data.commits[t] : null;
              return commit ? commit[0].slice(0, 7) : "";
            });
          }
        }),
        Object.assign({}, axis, {
          font: Y_FONT,
          size: labelWidth,
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
      var sha = data.commits[u.perfciHit.idx][0];
      window.open(repo.replace(/\/$/, "") + "/commit/" + sha, "_blank", "noopener");
    });
    figure.querySelector("[data-pan='-1']").onclick = function () { u.perfciPan(-1); };
    figure.querySelector("[data-pan='1']").onclick = function () { u.perfciPan(1); };
    figure.querySelector("[data-reset]").onclick = function () { u.perfciReset(); };
    charts[chart.id] = u;
    showLatest(figure, chart);
    return u;
  }

  // Under the chart: each machine's value at the newest commit it measured (the branch's
  // order, not the order runs were stored in).
  function showLatest(figure, chart) {
    var out = figure.querySelector("[data-latest]");
    if (!out) return;
    out.textContent = "";
    chart.series.forEach(function (s) {
      for (var x = s.median.length - 1; x >= 0; x--) {
        if (s.median[x] == null) continue;
        var commit = data.commits[x], runs = runsAt(s, x);
        var span = document.createElement("span");
        span.className = "latest-machine";
        span.dataset.sha = commit[0];
        span.textContent = "Latest on " + data.machines[s.machine] + ": " + fmt(s.median[x], chart.unit) +
          " at " + commit[0].slice(0, 10) + " (" + commit[2] + (runs.length > 1 ? ", median of " + runs.length + " runs" : "") + ")";
        out.appendChild(span);
        return;
      }
    });
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
