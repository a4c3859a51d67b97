/* The accountability chart (ECharts, vendored): a horizontal bar per person of the amount of
   bad debts they bear, beside the amount of the write-offs they share.
   Element: <div data-credit-chart="accountability" data-source="id of a json_script">. */
(function () {
  "use strict";

  function amount(value) {
    return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function compact(value) {
    var absolute = Math.abs(value);
    if (absolute >= 1e8) return (value / 1e8).toFixed(1) + "亿";
    if (absolute >= 1e4) return (value / 1e4).toFixed(1) + "万";
    return String(value);
  }

  function build(data) {
    var names = data.names.slice().reverse();
    return {
      grid: { left: 8, right: 32, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0, itemWidth: 12, itemHeight: 8 },
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (params) {
          return "<strong>" + params[0].name + "</strong><br>" + params.map(function (p) { return p.seriesName + ": " + amount(p.value); }).join("<br>");
        },
      },
      xAxis: { type: "value", axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: "#eef0f3" } } },
      yAxis: { type: "category", data: names },
      series: [
        { name: data.labels.amount, type: "bar", data: data.amount.slice().reverse(), itemStyle: { color: "#c9ccd3" }, barGap: "-100%" },
        { name: data.labels.borne, type: "bar", data: data.borne.slice().reverse(), itemStyle: { color: "#c8322f" },
          label: { show: true, position: "right", formatter: function (p) { return compact(p.value); } } },
      ],
    };
  }

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-credit-chart='accountability']").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      element.style.height = Math.max(220, 48 + data.names.length * 30) + "px";
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(data));
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
