// Monitoring charts (uPlot, vendored): every [data-charts] section fetches its JSON
// (apps/monitoring: points of CPU, memory, pods or network, with capacity/allocatable or
// requests/limits as flat lines), draws one chart per metric, and fetches again every
// data-refresh seconds and whenever a range button (1h/6h/24h/7d) is pressed.
(function () {
  "use strict";
  const COLORS = ["#2563eb", "#c62828", "#b26a00", "#2e7d32"];

  function scaled(value, unit) {
    if (value === null || value === undefined) return "";
    if (unit === "cores") return value < 1 ? Math.round(value * 1000) + "m" : value.toFixed(2);
    if (unit === "bytes" || unit === "bytes/s") {
      const steps = [["Gi", 1024 ** 3], ["Mi", 1024 ** 2], ["Ki", 1024]];
      const suffix = unit === "bytes/s" ? "/s" : "";
      for (const [name, size] of steps) {
        if (Math.abs(value) >= size) return (value / size).toFixed(1) + name + suffix;
      }
      return Math.round(value) + suffix;
    }
    return String(Math.round(value * 100) / 100);
  }

  function draw(section, box, chart, data, t) {
    const inside = chart.points.filter((p) => p[0] >= data.start && p[0] <= data.end);
    // the flat lines span the whole range: its ends are x values without usage
    const times = [];
    const usage = [];
    if (!inside.length || inside[0][0] > data.start) { times.push(data.start); usage.push(null); }
    inside.forEach((p) => { times.push(p[0]); usage.push(p[1]); });
    if (times[times.length - 1] < data.end) { times.push(data.end); usage.push(null); }
    const columns = [times, usage];
    const series = [{}, { label: t.tUsage, stroke: COLORS[0], width: 2, fill: "rgba(37,99,235,.08)",
      points: { show: inside.length < 60, size: 4 }, value: (u, v) => scaled(v, chart.unit) }];
    chart.lines.forEach((line, i) => {
      columns.push(times.map(() => line.value));
      series.push({ label: line.label, stroke: COLORS[(i + 1) % COLORS.length], dash: [6, 4],
        width: 1.5, value: (u, v) => scaled(v, chart.unit) });
    });
    const width = Math.max(260, Math.min(560, box.clientWidth || 420));
    const options = {
      width: width,
      height: 180,
      scales: { x: { time: true, range: () => box._range }, y: { range: (u, lo, hi) => [0, Math.max(hi || 0, 1e-9) * 1.1] } },
      axes: [{}, { size: 72, values: (u, ticks) => ticks.map((v) => scaled(v, chart.unit)) }],
      series: series,
      legend: { live: true },
    };
    box._range = [data.start, data.end]; // read by the x scale at every redraw
    box.dataset.points = String(chart.points.length);
    box.dataset.metric = chart.metric;
    if (box._plot && box._plot.series.length === series.length) {
      box._plot.setData(columns);
    } else {
      if (box._plot) box._plot.destroy();
      box._plot = new uPlot(options, columns, box.querySelector(".chart-canvas"));
    }
  }

  function render(section, data) {
    const grid = section.querySelector(".chart-grid");
    const t = section.dataset;
    const status = section.querySelector("[data-chart-status]");
    status.textContent = data.error ? data.error : "";
    status.classList.toggle("error", Boolean(data.error));
    data.charts.forEach((chart) => {
      let box = grid.querySelector(`[data-chart="${chart.metric}"]`);
      if (!box) {
        box = document.createElement("figure");
        box.className = "chart";
        box.dataset.chart = chart.metric;
        box.dataset.testid = "chart-" + chart.metric;
        box.setAttribute("data-testid", "chart-" + chart.metric);
        const title = document.createElement("figcaption");
        title.textContent = chart.title;
        const canvas = document.createElement("div");
        canvas.className = "chart-canvas";
        box.append(title, canvas);
        grid.appendChild(box);
      }
      draw(section, box, chart, data, t);
      box.classList.toggle("no-data", !chart.points.length);
    });
    section.dataset.loaded = String(Date.now());
  }

  function load(section) {
    const range = section.dataset.range;
    const url = section.dataset.chartsUrl + "?range=" + encodeURIComponent(range);
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json().then((body) => ({ ok: r.ok, body: body })))
      .then(({ ok, body }) => {
        if (!ok) throw new Error(body.error || String(body));
        render(section, body);
      })
      .catch((err) => {
        const status = section.querySelector("[data-chart-status]");
        status.textContent = section.dataset.tError + " " + err.message;
        status.classList.add("error");
      });
  }

  function start(section) {
    if (section._charts) return;
    section._charts = true;
    section.querySelectorAll("[data-range-button]").forEach((button) => {
      button.addEventListener("click", () => {
        section.dataset.range = button.dataset.rangeButton;
        section.querySelectorAll("[data-range-button]").forEach((b) =>
          b.setAttribute("aria-pressed", String(b === button)));
        load(section);
      });
    });
    load(section);
    const every = parseInt(section.dataset.refresh, 10) || 30;
    section._timer = setInterval(() => {
      if (!document.body.contains(section)) return clearInterval(section._timer);
      if (!document.hidden) load(section);
    }, every * 1000);
  }

  function all() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-charts-url]").forEach(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
  document.addEventListener("htmx:afterSettle", all);
})();
