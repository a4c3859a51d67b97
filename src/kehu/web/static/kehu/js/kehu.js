/* Kehu page behaviour: charts (ECharts, vendored), row toggles, the language switch. */
(function () {
  "use strict";

  var palette = {
    accent: "#4353d8",
    accentSoft: "#c9cff6",
    text: "#1b1f27",
    muted: "#667085",
    grid: "#eef0f3",
    lifecycle: {
      prospect: "#98a2b3",
      new: "#1f64c0",
      old: "#167a4a",
      inactive: "#d08a2c",
      lost: "#c8322f",
    },
  };

  function formatAmount(value) {
    return Number(value).toLocaleString(undefined, {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  }

  var isChinese = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;

  function shorten(value, divisor, unit) {
    return (value / divisor).toFixed(1).replace(/\.0$/, "") + unit;
  }

  // Axis labels: 万 and 亿 in Chinese, K and M in English.
  function formatCompact(value) {
    var absolute = Math.abs(value);
    if (isChinese) {
      if (absolute >= 1e8) return shorten(value, 1e8, "亿");
      if (absolute >= 1e4) return shorten(value, 1e4, "万");
    } else {
      if (absolute >= 1e6) return shorten(value, 1e6, "M");
      if (absolute >= 1e3) return shorten(value, 1e3, "K");
    }
    return String(value);
  }

  var baseTextStyle = {
    fontFamily: getComputedStyle(document.documentElement).getPropertyValue("--font") || "sans-serif",
    color: palette.muted,
    fontSize: 11,
  };

  var builders = {
    lifecycle: function (data) {
      return {
        textStyle: baseTextStyle,
        grid: { left: 8, right: 16, top: 8, bottom: 4, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: {
          type: "value",
          minInterval: 1,
          splitLine: { lineStyle: { color: palette.grid } },
          axisLabel: { formatter: formatCompact },
        },
        yAxis: {
          type: "category",
          inverse: true,
          data: data.labels,
          axisTick: { show: false },
          axisLine: { lineStyle: { color: palette.grid } },
          axisLabel: { color: palette.text },
        },
        series: [
          {
            type: "bar",
            barMaxWidth: 18,
            data: data.values.map(function (value, index) {
              return {
                value: value,
                itemStyle: {
                  color: palette.lifecycle[data.keys[index]] || palette.accent,
                  borderRadius: [0, 3, 3, 0],
                },
              };
            }),
            label: {
              show: true,
              position: "right",
              color: palette.muted,
              fontSize: 11,
              formatter: function (item) {
                return Number(item.value).toLocaleString();
              },
            },
          },
        ],
      };
    },
    orders: function (data) {
      return {
        textStyle: baseTextStyle,
        grid: { left: 8, right: 8, top: 32, bottom: 4, containLabel: true },
        legend: { top: 0, right: 0, itemWidth: 12, itemHeight: 8, textStyle: { color: palette.muted } },
        tooltip: {
          trigger: "axis",
          valueFormatter: function (value) {
            return Number.isInteger(value) ? String(value) : formatAmount(value);
          },
        },
        xAxis: {
          type: "category",
          data: data.labels,
          axisTick: { show: false },
          axisLine: { lineStyle: { color: palette.grid } },
        },
        yAxis: [
          {
            type: "value",
            splitLine: { lineStyle: { color: palette.grid } },
            axisLabel: { formatter: formatCompact },
          },
          { type: "value", minInterval: 1, splitLine: { show: false } },
        ],
        series: [
          {
            name: data.amount_label,
            type: "bar",
            barMaxWidth: 22,
            data: data.amounts,
            itemStyle: { color: palette.accent, borderRadius: [3, 3, 0, 0] },
          },
          {
            name: data.count_label,
            type: "line",
            yAxisIndex: 1,
            data: data.counts,
            smooth: true,
            symbolSize: 5,
            itemStyle: { color: "#d08a2c" },
            lineStyle: { width: 2 },
          },
        ],
      };
    },
    monthly: function (data) {
      return {
        textStyle: baseTextStyle,
        grid: { left: 8, right: 8, top: 10, bottom: 4, containLabel: true },
        tooltip: { trigger: "axis", valueFormatter: formatAmount },
        xAxis: {
          type: "category",
          data: data.labels,
          axisTick: { show: false },
          axisLine: { lineStyle: { color: palette.grid } },
        },
        yAxis: {
          type: "value",
          splitLine: { lineStyle: { color: palette.grid } },
          axisLabel: { formatter: formatCompact },
        },
        series: [
          {
            name: data.series,
            type: "bar",
            barMaxWidth: 16,
            data: data.amounts,
            itemStyle: { color: palette.accent, borderRadius: [3, 3, 0, 0] },
          },
        ],
      };
    },
  };

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      var build = builders[element.dataset.chart];
      if (!source || !build) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      var option = build(JSON.parse(source.textContent));
      option.animationDuration = 400; // a short draw-in: the figures matter, not the show
      chart.setOption(option);
      element.dataset.chartReady = "1";
      charts.push(chart);
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) {
      chart.resize();
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    initCharts(document);
  });
  document.addEventListener("htmx:load", function (event) {
    initCharts(event.detail.elt);
  });

  // Row toggles: <button data-toggle="id"> shows or hides the element with that id.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle]");
    if (!button) return;
    var target = document.getElementById(button.dataset.toggle);
    if (!target) return;
    target.hidden = !target.hidden;
    button.setAttribute("aria-expanded", String(!target.hidden));
  });

  // Forms marked data-drop-empty leave empty fields out of the request and the pushed URL
  // (?q=abc rather than ?q=abc&kind=&lifecycle=&region=).
  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    if (!source || !source.closest || !source.closest("[data-drop-empty]")) return;
    var parameters = event.detail.parameters;
    Array.from(parameters.keys()).forEach(function (key) {
      var values = parameters.getAll(key);
      if (values.every(function (value) { return value === ""; })) parameters.delete(key);
    });
  });

  // After htmx pushed a new URL, come back to that URL (not the first one) after switching language.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("language-switch")) return;
    var next = form.querySelector("input[name=next]");
    if (next) next.value = window.location.pathname + window.location.search;
  });
})();
