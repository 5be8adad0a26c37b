// Draws every chart of a console page with Chart.js from the JSON the server wrote next to it
// (the same numbers as the table under it). No build step: Chart.js is vendored (console/package.json).
(function () {
  "use strict";
  const palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569"];
  function draw(figure) {
    const specNode = document.getElementById("spec-" + figure.id);
    const canvas = figure.querySelector("canvas");
    if (!specNode || !canvas || typeof Chart === "undefined") return;
    const spec = JSON.parse(specNode.textContent);
    const datasets = spec.datasets.map(function (set, i) {
      const colour = palette[i % palette.length];
      return { label: set.label, data: set.data, borderColor: colour, backgroundColor: spec.type === "line" ? colour : colour + "cc", spanGaps: true, tension: 0.2 };
    });
    const y = { beginAtZero: true, stacked: !!spec.stacked };
    if (spec.percent) { y.max = 100; y.ticks = { callback: function (v) { return v + "%"; } }; }
    else { y.ticks = { precision: 0 }; }  // counts: whole numbers only
    figure.chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: !!spec.stacked }, y: y },
                 plugins: { legend: { position: "bottom" } } },
    });
    figure.dataset.rendered = "true";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure.chart").forEach(draw);
  });
})();
