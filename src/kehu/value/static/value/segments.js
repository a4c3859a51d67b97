/* The segment worksheet (ECharts, vendored): the gross profit of each product line split into
   its best customers, the rest and its worst customers (stacked horizontal bars), and the
   "Take over" buttons that copy a suggested next action into the line's form. Elements:
   <div data-segments-chart="gross_profit" data-source="id of a json_script">;
   <button data-take-over="line id" data-customer data-customer-label data-reason data-text>. */
(function () {
  "use strict";

  var grid = "#eef0f3";
  var colours = { best: "#167a4a", rest: "#bcc4f3", worst: "#c8322f" };

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
    gross_profit: function (data) {
      var labels = data.labels;
      var series = ["best", "rest", "worst"].map(function (key) {
        return {
          name: labels[key], type: "bar", stack: "gross", data: data[key], barMaxWidth: 22,
          itemStyle: { color: colours[key] }, emphasis: { focus: "series" },
        };
      });
      return {
        grid: { left: 8, right: 24, top: 32, bottom: 28, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (params) {
          var index = params[0].dataIndex;
          var total = data.best[index] + data.rest[index] + data.worst[index];
          return "<strong>" + data.lines[index] + "</strong> · " + data.customers[index].toLocaleString() + " " + labels.customers + "<br>" +
            params.map(function (p) { return p.marker + p.seriesName + ": " + amount(p.value); }).join("<br>") +
            "<br>" + labels.total + ": " + amount(total);
        } },
        yAxis: { type: "category", inverse: true, data: data.lines },
        xAxis: { type: "value", name: labels.gross_profit, nameLocation: "middle", nameGap: 24, axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: grid } } },
        series: series,
      };
    },
  };

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-segments-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      var build = builders[element.dataset.segmentsChart];
      if (!source || !build) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(JSON.parse(source.textContent)));
      element.dataset.chartReady = "1";
      charts.push(chart);
    });
  }

  /* "Take over": fill the line's next-action form with the suggestion for this customer. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-take-over]") : null;
    if (!button) return;
    var form = document.querySelector('[data-action-form="' + button.dataset.takeOver + '"]');
    if (!form) return;
    form.elements.text.value = button.dataset.text;
    form.elements.customer.value = button.dataset.customer || "";
    form.elements.customer_label.value = button.dataset.customerLabel || "";
    form.elements.reason.value = button.dataset.reason || "";
    var label = form.querySelector("[data-customer-label]");
    if (label) label.textContent = button.dataset.customerLabel ? "· " + button.dataset.customerLabel : "";
    form.scrollIntoView({ behavior: "smooth", block: "center" });
    form.elements.text.focus();
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
  document.addEventListener("htmx:load", function (event) { initCharts(event.detail.elt); });
})();
