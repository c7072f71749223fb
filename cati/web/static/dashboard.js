// Dashboard charts, drawn with the vendored Chart.js from the JSON the page carries.
// Numbers on axes and in tooltips follow the page's locale (vi-VN: 7,5 and 94,3 %).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var locale = data.locale || "vi-VN";
  var blue = "#0b4f8a", green = "#1b7f4b", orange = "#b45309";
  Chart.defaults.locale = locale;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1f2937";

  var decimal = new Intl.NumberFormat(locale, {maximumFractionDigits: 2});
  // 94,3 % in Vietnamese (a no-break space before the sign), 94.3% in English.
  var suffix = locale.indexOf("vi") === 0 ? "\u00a0%" : "%";
  var tenths = new Intl.NumberFormat(locale, {maximumFractionDigits: 1});
  var share = {format: function (v) { return tenths.format(v * 100) + suffix; }};
  var whole = new Intl.NumberFormat(locale, {maximumFractionDigits: 0});

  (data.charts || []).forEach(function (chart) {
    var canvas = document.getElementById("distribution-" + chart.id);
    if (!canvas) { return; }
    var from = chart.satisfied_from;
    new Chart(canvas, {
      type: "bar",
      data: {labels: chart.scores, datasets: [{label: data.people, data: chart.counts,
        backgroundColor: chart.scores.map(function (s) {
          return from !== null && from !== undefined && Number(s) >= from ? green : blue;
        })}]},
      options: {animation: false, maintainAspectRatio: false,
        plugins: {legend: {display: false}},
        scales: {y: {beginAtZero: true, ticks: {precision: 0,
          callback: function (v) { return whole.format(v); }}}}}
    });
  });

  var trend = document.getElementById("trend-chart");
  if (trend && data.series) {
    var isShare = data.kind === "yes_no";
    var colours = [blue, orange];
    var datasets = data.series.map(function (s, i) {
      var colour = colours[i % colours.length];
      return {
        label: s.label, data: s.values, borderColor: colour, backgroundColor: colour,
        // A point from fewer answers than the minimum is hollow.
        pointBackgroundColor: s.low.map(function (low) { return low ? "#ffffff" : colour; }),
        pointBorderColor: colour, pointBorderWidth: 2, pointRadius: 5, spanGaps: true
      };
    });
    var y = isShare
      ? {min: 0, suggestedMax: 0.2, ticks: {callback: function (v) { return share.format(v); }}}
      : {min: data.scale ? data.scale[0] : undefined, max: data.scale ? data.scale[1] : undefined,
         ticks: {callback: function (v) { return decimal.format(v); }}};
    new Chart(trend, {
      type: "line",
      data: {labels: data.labels, datasets: datasets},
      options: {animation: false, maintainAspectRatio: false, scales: {y: y},
        plugins: {tooltip: {callbacks: {label: function (ctx) {
          var v = ctx.parsed.y;
          return ctx.dataset.label + ": " + (isShare ? share.format(v) : decimal.format(v));
        }}}}}
    });
  }
})();
