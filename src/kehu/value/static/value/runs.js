/* The value snapshot runs chart (ECharts, vendored): seconds per run over the start time, one
   series per engine, failed runs drawn in red; a click filters the table to the run's period
   and engine. Element: <div data-runs-chart="duration" data-source="id of a json_script">. */
(function () {
  "use strict";

  var grid = "#eef0f3";

  function seconds(value) {
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
  }

  function build(data) {
    var labels = data.labels;
    return {
      grid: { left: 8, right: 24, top: 36, bottom: 28, containLabel: true },
      legend: { top: 0, itemWidth: 12, itemHeight: 8 },
      tooltip: {
        trigger: "item",
        formatter: function (params) {
          var point = params.data;
          return "<strong>" + point.period + "</strong> · " + params.seriesName + "<br>" +
            point.value[0].slice(0, 16).replace("T", " ") + "<br>" +
            labels.seconds + ": " + seconds(point.value[1]) + "<br>" +
            labels.status + ": " + point.status + "<br>" +
            labels.customers + ": " + Number(point.customers).toLocaleString();
        },
      },
      xAxis: { type: "time", splitLine: { show: false } },
      yAxis: { type: "value", name: labels.seconds, min: 0, splitLine: { lineStyle: { color: grid } } },
      series: data.series.map(function (item) {
        return {
          name: item.name, type: "line", showSymbol: true, symbolSize: 7,
          lineStyle: { color: item.colour, width: 1.5 }, itemStyle: { color: item.colour },
          data: item.points.map(function (point) {
            return point.failed ? Object.assign({}, point, { itemStyle: { color: "#c8322f" }, symbol: "diamond", symbolSize: 10 }) : point;
          }),
        };
      }),
    };
  }

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-runs-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      if (!source) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(JSON.parse(source.textContent)));
      chart.on("click", function (params) {
        if (params.data && params.data.url) window.location.href = params.data.url;
      });
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
