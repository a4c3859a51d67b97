/* The group exposure chart (ECharts, vendored): one horizontal bar of the group exposure made
   of each member's part, beside a bar of the group line.
   Element: <div data-credit-chart="group" data-source="id of a json_script">. */
(function () {
  "use strict";

  var COLOURS = ["#2f6fdf", "#5b9bf0", "#8fbaf5", "#1b7f4b", "#5fb585", "#e0a030", "#c8643a", "#8a6fd1"];

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
    var categories = [data.labels.exposure];
    if (data.line !== null) categories.unshift(data.labels.line);
    var at = function (value) {
      return data.line !== null ? [null, value] : [value];
    };
    var series = data.members.map(function (member, index) {
      return {
        name: member.code, type: "bar", stack: "exposure", data: at(member.exposure), barMaxWidth: 36,
        itemStyle: { color: COLOURS[index % COLOURS.length] },
      };
    });
    if (data.line !== null) {
      series.push({
        name: data.labels.line, type: "bar", stack: "line", data: [data.line, null], barMaxWidth: 36,
        itemStyle: { color: "#c9ccd3" },
        label: { show: true, position: "right", formatter: function (p) { return compact(p.value); } },
        markLine: {
          symbol: "none", silent: true, lineStyle: { color: "#c8322f", type: "dashed" },
          label: { formatter: data.labels.line }, data: [{ xAxis: data.line }],
        },
      });
    }
    return {
      grid: { left: 8, right: 48, top: 28, bottom: data.members.length > 4 ? 72 : 40, containLabel: true },
      legend: { bottom: 0, type: "scroll", itemWidth: 12, itemHeight: 8 },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var member = data.members[p.seriesIndex];
          var title = p.seriesName === data.labels.line || !member ? p.seriesName : member.code + " " + member.name;
          var text = "<strong>" + title + "</strong><br>" + amount(p.value);
          if (p.seriesName !== data.labels.line && data.exposure > 0) {
            text += " (" + (100 * p.value / data.exposure).toFixed(1) + "% " + data.labels.share + ")";
          }
          return text;
        },
      },
      xAxis: { type: "value", axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: "#eef0f3" } } },
      yAxis: { type: "category", data: categories },
      series: series,
    };
  }

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-credit-chart='group']").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      element.style.height = (data.line !== null ? 200 : 150) + (data.members.length > 4 ? 32 : 0) + "px";
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
