/* Lifetime-value charts (ECharts, vendored), after value/charts.js: the holdout check per
   calibration-frequency group (actual against each model's prediction), the cumulative repeat
   purchases over time (actual against each model, the end of the calibration period marked) and
   the lifetime value by the change in yearly retention. Elements:
   <div data-lifetime-chart="groups|tracking|retention" data-source="id of a json_script">. */
(function () {
  "use strict";

  var grid = "#eef0f3";
  var modelColours = { bgnbd: "#4353d8", mbgnbd: "#e0a526", pareto_nbd: "#167a4a" };

  function amount(value) {
    return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function compact(value) {
    var absolute = Math.abs(value);
    if (absolute >= 1e8) return (value / 1e8).toFixed(1) + "亿";
    if (absolute >= 1e4) return (value / 1e4).toFixed(1) + "万";
    return String(value);
  }

  function modelName(model, labels) {
    return model.in_use ? model.name + " (" + labels.in_use + ")" : model.name;
  }

  function modelLine(model) {
    return { color: modelColours[model.key] || "#888", width: model.in_use ? 2.5 : 1.5, type: model.in_use ? "solid" : "dashed" };
  }

  var builders = {
    groups: function (data) {
      var labels = data.labels;
      var series = [{ name: labels.actual, type: "bar", data: data.actual_by_group, itemStyle: { color: "#9aa1ad" }, barMaxWidth: 28 }];
      data.models.forEach(function (model) {
        series.push({
          name: modelName(model, labels), type: "line", data: model.by_group, symbolSize: model.in_use ? 7 : 5,
          lineStyle: modelLine(model), itemStyle: { color: modelColours[model.key] || "#888" },
        });
      });
      return {
        grid: { left: 8, right: 16, top: 40, bottom: 28, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", formatter: function (params) {
          var index = params[0].dataIndex;
          return "<strong>" + labels.group + ": " + data.groups[index] + "</strong> (" + data.customers[index].toLocaleString() + " " + labels.customers + ")<br>" +
            params.map(function (p) { return p.marker + p.seriesName + ": " + Number(p.value).toFixed(2); }).join("<br>");
        } },
        xAxis: { type: "category", data: data.groups, name: labels.group, nameLocation: "middle", nameGap: 24 },
        yAxis: { type: "value", splitLine: { lineStyle: { color: grid } } },
        series: series,
      };
    },
    tracking: function (data) {
      var labels = data.labels;
      var pairs = function (values) { return values.map(function (value, index) { return [data.dates[index], value]; }); };
      var series = [{
        name: labels.actual, type: "line", showSymbol: false, data: pairs(data.actual), lineStyle: { color: "#1f2430", width: 2 }, itemStyle: { color: "#1f2430" },
        markLine: { silent: true, symbol: "none", lineStyle: { color: "#c8322f", type: "dashed", width: 1 },
          label: { formatter: labels.calibration_end, fontSize: 11, position: "end" }, data: [{ xAxis: data.calibration_end }] },
        markArea: { silent: true, itemStyle: { color: "rgba(200,50,47,0.05)" }, data: [[{ xAxis: data.calibration_end }, { xAxis: data.dates[data.dates.length - 1] }]] },
      }];
      data.models.forEach(function (model) {
        series.push({ name: modelName(model, labels), type: "line", showSymbol: false, data: pairs(model.cumulative), lineStyle: modelLine(model), itemStyle: { color: modelColours[model.key] || "#888" } });
      });
      return {
        grid: { left: 8, right: 24, top: 48, bottom: 28, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", formatter: function (params) {
          return "<strong>" + params[0].value[0] + "</strong><br>" + params.map(function (p) { return p.marker + p.seriesName + ": " + Math.round(p.value[1]).toLocaleString(); }).join("<br>");
        } },
        xAxis: { type: "time", splitLine: { show: false } },
        yAxis: { type: "value", axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: grid } } },
        series: series,
      };
    },
    retention: function (data) {
      var labels = data.labels;
      return {
        grid: { left: 8, right: 24, top: 24, bottom: 32, containLabel: true },
        tooltip: { trigger: "axis", formatter: function (params) {
          var point = params[0].value;
          return labels.change + ": " + (point[0] > 0 ? "+" : "") + point[0] + "<br>" + labels.value + ": " + amount(point[1]);
        } },
        xAxis: { type: "value", min: "dataMin", max: "dataMax", name: labels.change, nameLocation: "middle", nameGap: 24, splitLine: { lineStyle: { color: grid } } },
        yAxis: { type: "value", axisLabel: { formatter: compact }, scale: true, splitLine: { lineStyle: { color: grid } } },
        series: [{
          name: labels.value, type: "line", data: data.points, showSymbol: false, lineStyle: { color: "#4353d8", width: 2 }, itemStyle: { color: "#4353d8" },
          markPoint: { symbol: "circle", symbolSize: 10, itemStyle: { color: "#c8322f" }, label: { show: false }, data: [{ coord: data.chosen, name: labels.chosen }] },
        }],
      };
    },
  };

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-lifetime-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      var build = builders[element.dataset.lifetimeChart];
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
