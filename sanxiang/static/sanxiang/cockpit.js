/* The supervision cockpit's charts, drawn with the vendored Apache ECharts
   (static/vendor/echarts) from the figures the page carries in the
   json_script tag #cockpit-data: the same numbers as the tables beside each
   chart. No inline script (CSP script-src 'self'); charts follow the
   window's width. */
(function () {
  "use strict";
  var source = document.getElementById("cockpit-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];

  function option(s) { return s.chart === "pie" ? pieOption(s) : barOption(s); }

  function narrow() { return window.innerWidth < 600; }

  function pieOption(s) {
    return {
      animation: false,
      tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      legend: { type: "scroll", bottom: 0 },
      series: [{
        type: "pie", radius: ["30%", "60%"], center: ["50%", "45%"],
        label: { formatter: "{b}：{c}", overflow: "truncate", width: narrow() ? 80 : 160 },
        data: s.categories.map(function (name, i) { return { name: name, value: s.series[0].data[i] }; })
      }]
    };
  }

  function barOption(s) {
    var many = s.categories.length > 3 || narrow();
    return {
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : (s.percent ? v + "%" : v); } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: s.categories,
               axisLabel: { interval: 0, rotate: many ? 30 : 0, width: narrow() ? 70 : 120, overflow: "truncate" } },
      yAxis: { type: "value", max: s.percent ? 100 : null, minInterval: s.percent ? null : 1, axisLabel: { formatter: s.percent ? "{value}%" : "{value}" } },
      series: s.series.map(function (serie) {
        return { name: serie.name, type: "bar", data: serie.data, stack: s.chart === "stack" ? "total" : null,
                 barMaxWidth: 36 };
      })
    };
  }

  data.sections.forEach(function (s) {
    var box = document.querySelector('.chart[data-section="' + s.code + '"]');
    if (!box) { return; }
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(option(s));
    box.setAttribute("data-drawn", "true");
    charts.push([chart, s]);
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (pair) { pair[0].setOption(option(pair[1])); pair[0].resize(); });
  });
}());
