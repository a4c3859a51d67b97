/* Credit rating charts (ECharts, vendored): the grade distribution, a bar per grade; a click
   lists that grade's customers. Elements: <div data-credit-chart="grades"
   data-source="id of a json_script">. */
(function () {
  "use strict";

  var builders = {
    grades: function (data) {
      return {
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "category", data: data.grades, axisTick: { show: false } },
        yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef0f3" } } },
        series: [
          {
            type: "bar", name: data.labels.customers, barMaxWidth: 56,
            label: { show: true, position: "top" },
            data: data.counts.map(function (count, index) {
              return { value: count, url: data.urls[index], itemStyle: { color: data.colours[index] } };
            }),
          },
        ],
      };
    },
  };

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-credit-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      var build = builders[element.dataset.creditChart];
      if (!source || !build) return;
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
