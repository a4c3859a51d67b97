/* The migration report's Sankey diagram (ECharts, vendored): customers flowing from their class
   in the first snapshot (left) to their class in the second (right); a click on a flow lists its
   customers below the matrix. Elements: <div data-migration-chart="sankey" data-source="id of a
   json_script"> with {nodes: [{name, label, key, side, count}], links: [{source, target, value,
   revenue, movement, colour, url}], labels: {from, to, customers, revenue}}. */
(function () {
  "use strict";

  var classColours = {
    with_money: "#2b3a9e", short_of_money: "#9aa6ec", not_active: "#c9ccd3",
    vip: "#2b3a9e", major: "#4353d8", ordinary: "#7d8be6", small: "#bcc4f3", inactive: "#c9ccd3", prospect: "#e4e6ea",
    "new": "#167a4a", gone: "#5b6170",
  };

  function amount(value) {
    return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function build(data) {
    var labels = data.labels;
    var byName = {};
    data.nodes.forEach(function (node) { byName[node.name] = node; });
    return {
      tooltip: {
        trigger: "item",
        formatter: function (params) {
          if (params.dataType === "edge") {
            var link = params.data;
            return "<strong>" + byName[link.source].label + " → " + byName[link.target].label + "</strong><br>" +
              link.movement + "<br>" + labels.customers + ": " + Number(link.value).toLocaleString() +
              "<br>" + labels.revenue + ": " + amount(link.revenue);
          }
          var node = byName[params.name];
          var period = node.side === "from" ? labels.from : labels.to;
          return "<strong>" + node.label + "</strong> (" + period + ")<br>" + labels.customers + ": " + Number(node.count).toLocaleString();
        },
      },
      series: [{
        type: "sankey", left: 8, right: 8, top: 24, bottom: 8, nodeWidth: 16, nodeGap: 10, layoutIterations: 0, draggable: false,
        emphasis: { focus: "adjacency" },
        label: {
          formatter: function (params) { return byName[params.name].label + "  " + Number(byName[params.name].count).toLocaleString(); },
          fontSize: 12,
        },
        data: data.nodes.map(function (node) {
          return {
            name: node.name, count: node.count, side: node.side, text: node.label,
            label: { position: node.side === "from" ? "right" : "left" },
            itemStyle: { color: classColours[node.key] || "#9aa1ad" },
          };
        }),
        links: data.links.map(function (link) {
          return {
            source: link.source, target: link.target, value: link.value, revenue: link.revenue, movement: link.movement, url: link.url,
            lineStyle: { color: link.colour, opacity: 0.35 },
          };
        }),
      }],
      graphic: [
        { type: "text", left: 8, top: 0, style: { text: labels.from, fontSize: 12, fontWeight: 600, fill: "#5b6170" } },
        { type: "text", right: 8, top: 0, style: { text: labels.to, fontSize: 12, fontWeight: 600, fill: "#5b6170" } },
      ],
    };
  }

  var charts = [];

  function show(url) {
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#migration-customers", swap: "innerHTML" }).then(function () {
        var target = document.getElementById("migration-customers");
        if (target) target.scrollIntoView({ behavior: "smooth", block: "start" });
      });
      return;
    }
    window.location.href = url + "#migration-customers";
  }

  function initCharts(root) {
    if (typeof window.echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("[data-migration-chart]").forEach(function (element) {
      if (element.dataset.chartReady) return;
      var source = document.getElementById(element.dataset.source);
      if (!source) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(JSON.parse(source.textContent)));
      chart.on("click", function (params) {
        if (params.dataType === "edge" && params.data && params.data.url) show(params.data.url);
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
