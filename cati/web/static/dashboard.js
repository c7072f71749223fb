// Dashboard charts, drawn with the vendored Chart.js from the JSON the page carries.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var blue = "#0b4f8a";

  var distribution = document.getElementById("distribution");
  if (distribution) {
    var scores = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
    new Chart(distribution, {
      type: "bar",
      data: {labels: scores, datasets: [{label: data.label, backgroundColor: blue,
        data: scores.map(function (s) { return data.distribution[s] || 0; })}]},
      options: {animation: false, maintainAspectRatio: false,
        plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true}}}
    });
  }

  var trend = document.getElementById("trend-chart");
  if (trend) {
    new Chart(trend, {
      type: "line",
      data: {labels: data.weeks, datasets: [
        {label: data.labels.overall, data: data.overall, borderColor: blue, yAxisID: "score"},
        {label: data.labels.rr1, data: data.rr1.map(function (v) { return v === null ? null : v * 100; }),
         borderColor: "#c2410c", yAxisID: "rate"}]},
      options: {animation: false, maintainAspectRatio: false, spanGaps: true, scales: {
        score: {position: "left", min: 1, max: 9},
        rate: {position: "right", min: 0, max: 100, grid: {drawOnChartArea: false}}}}
    });
  }
})();
