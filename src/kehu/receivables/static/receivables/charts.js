/* Receivables charts (ECharts, vendored): the aging by bucket (stacked bars) and cash
   collected against sales per month. Elements: <div data-receivables-chart="aging|cash"
   data-source="id of a json_script">. */
(function () {
  "use strict";

  var bucketColours = ["#167a4a", "#8dbb5a", "#e3c14b", "#e39a3b", "#d9682f", "#c8322f", "#7a1f1d"];
  var grid = "#eef0f3";

  function amount(value) {
    return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function compact(value) {
    var absolute = Math.abs(value);
    if (absolute >= 1e8) return (value / 1e8).toFixed(1) + "亿";
    if (absolute >= 1e4) return (value / 1e4).toFixed(1) + "万";
    return String(value);
  }

  var builders = {
    aging: function (data) {
      return {
        grid: { left: 8, right: 16, top: 32, bottom: 4, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: amount },
        xAxis: { type: "category", data: data.groups, axisTick: { show: false }, axisLabel: { interval: 0, rotate: data.groups.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", splitLine: { lineStyle: { color: grid } }, axisLabel: { formatter: compact } },
        series: data.series.map(function (series, index) {
          return {
            name: series.name, type: "bar", stack: "aging", barMaxWidth: 40, data: series.values,
            itemStyle: { color: bucketColours[index % bucketColours.length] },
          };
        }),
      };
    },
    cash: function (data) {
      return {
        grid: { left: 8, right: 8, top: 32, bottom: 4, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", valueFormatter: amount },
        xAxis: { type: "category", data: data.labels, axisTick: { show: false } },
        yAxis: { type: "value", splitLine: { lineStyle: { color: grid } }, axisLabel: { formatter: compact } },
        series: [
          { name: data.sales_label, type: "bar", barMaxWidth: 16, data: data.sales, itemStyle: { color: "#c9cff6" } },
          { name: data.cash_label, type: "bar", barMaxWidth: 16, data: data.cash, itemStyle: { color: "#4353d8" } },
        ],
      };
    },
  };

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-receivables-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      var build = builders[element.dataset.receivablesChart];
      if (!source || !build) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(JSON.parse(source.textContent)));
      element.dataset.chartReady = "1";
      charts.push(chart);
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
  document.addEventListener("htmx:load", function (event) { initCharts(event.detail.elt); });
})();
