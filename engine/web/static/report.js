/* Draws a report's chart with plotly.js from the figure the page carries as JSON. */
(function () {
  "use strict";
  var el = document.getElementById("report-chart");
  if (!el || !window.Plotly) return;
  var figure = JSON.parse(el.dataset.figure);
  window.Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
})();
