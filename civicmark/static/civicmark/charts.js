// Draws every [data-chart] element from the ECharts option the server rendered beside it as JSON
// (no inline script: the page's Content-Security-Policy allows scripts from this site only).
(function () {
  "use strict";
  var charts = [];
  // On a phone, the names under a bar chart ran into each other (six work steps in 300 px): they
  // are slanted, and a long one is cut with an ellipsis (the data table below has it whole).
  function narrow(option, width) {
    var axis = option.xAxis;
    if (width >= 576 || !axis || axis.type !== "category" || !axis.data || axis.data.length < 4) {
      return option;
    }
    axis.axisLabel = Object.assign({}, axis.axisLabel, {
      rotate: 40, width: 72, overflow: "truncate", hideOverlap: false
    });
    if (option.grid) option.grid = Object.assign({}, option.grid, { left: 36 });
    return option;
  }
  function draw(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(narrow(JSON.parse(source.textContent), el.clientWidth));
      el.dataset.drawn = "1";
      charts.push(chart);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
