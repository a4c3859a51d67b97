/* Value report charts (ECharts, vendored): the customer pyramid (a funnel of the active classes
   with inactive customers and prospects below it; a click lists a class's customers), the Lorenz
   curve, the whale curve, the value matrix (a scatter of revenue × loyalty with the two thresholds)
   and the cost to serve of the worst customers (stacked bars). Elements:
   <div data-value-chart="pyramid|lorenz|whale|matrix|cost_to_serve"
   data-source="id of a json_script">. */
(function () {
  "use strict";

  var classColours = { vip: "#2b3a9e", major: "#4353d8", ordinary: "#7d8be6", small: "#bcc4f3", inactive: "#c9ccd3", prospect: "#e4e6ea" };
  var grid = "#eef0f3";

  function amount(value) {
    return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function percent(share, digits) {
    return share === null || share === undefined ? "—" : (share * 100).toFixed(digits === undefined ? 1 : digits) + "%";
  }

  function compact(value) {
    var absolute = Math.abs(value);
    if (absolute >= 1e8) return (value / 1e8).toFixed(1) + "亿";
    if (absolute >= 1e4) return (value / 1e4).toFixed(1) + "万";
    return String(value);
  }

  function pyramidItem(item, size) {
    return {
      name: item.name, value: size, url: item.url, count: item.count, amount: item.value, share: item.value_share,
      itemStyle: { color: classColours[item.key] || "#ccc", borderColor: "#fff", borderWidth: 2 },
      label: { color: item.key === "vip" || item.key === "major" ? "#fff" : "#1f2430" },
    };
  }

  function pyramidLabel(params) {
    return params.name + "  " + params.data.count.toLocaleString() + "  ·  " + percent(params.data.share);
  }

  var builders = {
    pyramid: function (data) {
      var active = data.classes.filter(function (item) { return item.active; });
      var others = data.classes.filter(function (item) { return !item.active; });
      var labels = data.labels;
      var tooltip = {
        trigger: "item",
        formatter: function (params) {
          return "<strong>" + params.name + "</strong><br>" + labels.customers + ": " + params.data.count.toLocaleString() +
            "<br>" + labels.value + ": " + amount(params.data.amount) + "<br>" + labels.share + ": " + percent(params.data.share);
        },
      };
      return {
        tooltip: tooltip,
        series: [
          {
            type: "funnel", sort: "ascending", top: 8, height: "66%", left: "10%", width: "80%", gap: 2, minSize: "22%", maxSize: "100%",
            label: { position: "inside", formatter: pyramidLabel, fontSize: 13 },
            data: active.map(function (item, index) { return pyramidItem(item, index + 1); }),
          },
          {
            type: "funnel", sort: "none", top: "76%", height: "22%", left: "10%", width: "80%", gap: 2, minSize: "100%", maxSize: "100%",
            label: { position: "inside", formatter: pyramidLabel, fontSize: 12 },
            data: others.map(function (item) { return pyramidItem(item, 1); }),
          },
        ],
      };
    },
    lorenz: function (data) {
      var labels = data.labels;
      return {
        grid: { left: 8, right: 24, top: 32, bottom: 28, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", formatter: function (params) {
          return labels.customers + ": " + percent(params[0].value[0]) + "<br>" + params.map(function (p) { return p.seriesName + ": " + percent(p.value[1]); }).join("<br>");
        } },
        xAxis: { type: "value", min: 0, max: 1, name: labels.customers, nameLocation: "middle", nameGap: 24, axisLabel: { formatter: function (v) { return percent(v, 0); } }, splitLine: { lineStyle: { color: grid } } },
        yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return percent(v, 0); } }, splitLine: { lineStyle: { color: grid } } },
        series: [
          { name: labels.lorenz, type: "line", showSymbol: false, data: data.lorenz, areaStyle: { color: "rgba(67,83,216,0.08)" }, lineStyle: { color: "#4353d8", width: 2 }, itemStyle: { color: "#4353d8" } },
          { name: labels.equality, type: "line", showSymbol: false, data: [[0, 0], [1, 1]], lineStyle: { color: "#9aa1ad", type: "dashed", width: 1 }, itemStyle: { color: "#9aa1ad" } },
        ],
      };
    },
    whale: function (data) {
      var labels = data.labels;
      return {
        grid: { left: 8, right: 24, top: 32, bottom: 28, containLabel: true },
        tooltip: { trigger: "axis", formatter: function (params) {
          return labels.customers + ": " + percent(params[0].value[0]) + "<br>" + labels.whale + ": " + amount(params[0].value[1]);
        } },
        xAxis: { type: "value", min: 0, max: 1, name: labels.customers, nameLocation: "middle", nameGap: 24, axisLabel: { formatter: function (v) { return percent(v, 0); } }, splitLine: { lineStyle: { color: grid } } },
        yAxis: { type: "value", axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: grid } } },
        series: [{
          name: labels.whale, type: "line", showSymbol: false, data: data.whale, lineStyle: { color: "#167a4a", width: 2 }, itemStyle: { color: "#167a4a" },
          areaStyle: { color: "rgba(22,122,74,0.08)" },
          markPoint: data.peak ? {
            symbol: "pin", symbolSize: 44, itemStyle: { color: "#c8322f" },
            label: { formatter: labels.peak, fontSize: 11 },
            data: [{ coord: data.peak, value: data.peak[1] }],
          } : undefined,
        }],
      };
    },
    matrix: function (data) {
      var labels = data.labels;
      var colours = { core: "#167a4a", risk: "#c8322f", growth: "#4353d8", marginal: "#9aa1ad" };
      var lines = [];
      if (data.volume_threshold !== null && (!data.log || data.volume_threshold > 0)) {
        lines.push({ xAxis: data.volume_threshold, name: labels.volume_threshold, label: { formatter: labels.volume_threshold } });
      }
      lines.push({ yAxis: data.loyalty_threshold, name: labels.loyalty_threshold, label: { formatter: labels.loyalty_threshold } });
      var series = data.series.map(function (item, index) {
        var entry = {
          name: item.name, type: "scatter", symbolSize: 6, data: item.points, large: item.points.length > 2000,
          itemStyle: { color: colours[item.key] || "#888", opacity: 0.7 },
        };
        if (index === 0) {
          entry.markLine = { silent: true, symbol: "none", lineStyle: { color: "#1f2430", type: "dashed", width: 1 }, label: { fontSize: 11, position: "insideEndTop" }, data: lines };
        }
        return entry;
      });
      return {
        grid: { left: 8, right: 32, top: 36, bottom: 32, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "item", formatter: function (params) {
          var point = params.value;
          return "<strong>" + point[2] + "</strong> " + point[3] + "<br>" + params.seriesName + "<br>" +
            labels.volume + ": " + amount(point[0]) + "<br>" + labels.loyalty + ": " + Number(point[1]).toFixed(2);
        } },
        xAxis: { type: data.log ? "log" : "value", name: labels.volume, nameLocation: "middle", nameGap: 24, axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: grid } } },
        yAxis: { type: "value", min: 0, max: 1, name: labels.loyalty, splitLine: { lineStyle: { color: grid } } },
        series: series,
      };
    },
    cost_to_serve: function (data) {
      var labels = data.labels;
      var colours = ["#4353d8", "#7d8be6", "#e0a526", "#c8322f", "#9a5bd0", "#167a4a", "#5b6472"];
      var series = data.components.map(function (item, index) {
        return { name: item.name, type: "bar", stack: "cost", data: item.values, itemStyle: { color: colours[index % colours.length] } };
      });
      return {
        grid: { left: 8, right: 24, top: 48, bottom: 28, containLabel: true },
        legend: { top: 0, itemWidth: 12, itemHeight: 8 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (params) {
          var index = params[0].dataIndex;
          var lines = params.filter(function (p) { return p.value; }).map(function (p) { return p.marker + p.seriesName + ": " + amount(p.value); });
          return "<strong>" + data.customers[index] + "</strong> " + data.names[index] + "<br>" + lines.join("<br>") +
            "<br>" + labels.gross_profit + ": " + amount(data.gross_profit[index]) + "<br>" + labels.net_profit + ": " + amount(data.net_profit[index]);
        } },
        yAxis: { type: "category", inverse: true, data: data.customers },
        xAxis: { type: "value", name: labels.cost_to_serve, nameLocation: "middle", nameGap: 24, axisLabel: { formatter: compact }, splitLine: { lineStyle: { color: grid } } },
        series: series,
      };
    },
  };

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-value-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      var build = builders[element.dataset.valueChart];
      if (!source || !build) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(JSON.parse(source.textContent)));
      var data = JSON.parse(source.textContent);
      chart.on("click", function (params) {
        if (params.data && params.data.url) window.location.href = params.data.url;
        else if (data.card_url && Array.isArray(params.value) && params.value.length > 4) {
          window.location.href = data.card_url.replace("/0/", "/" + params.value[4] + "/");
        } else if (data.card_url && data.ids && params.dataIndex !== undefined) {
          window.location.href = data.card_url.replace("/0/", "/" + data.ids[params.dataIndex] + "/");
        }
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
