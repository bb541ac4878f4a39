/* Draws the dashboard's charts (langganan.web.charts): each .chart[data-chart] names the JSON
   of its Plotly figure. A point or heat-map cell whose customdata is a URL on this site opens it
   when clicked (the table beside the chart has the same links). No CDN, no build step. */
(function () {
  "use strict";
  if (!window.Plotly) return;
  var locale = document.getElementById("chart-locale");
  if (locale) {
    var loc = JSON.parse(locale.textContent);
    Plotly.register({ moduleType: "locale", name: loc.name, dictionary: {}, format: loc.format });
  }

  function urlOf(point) {
    var url = point.customdata;
    if (Array.isArray(url) && Array.isArray(point.pointNumber)) {
      var cells = point.data.customdata || [];
      var row = cells[point.pointNumber[0]] || [];
      url = row[point.pointNumber[1]];
    }
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : null;
  }

  document.querySelectorAll(".chart[data-chart]").forEach(function (box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    Plotly.newPlot(box, spec.data, spec.layout, spec.config).then(function () {
      box.setAttribute("data-drawn", "true");
    });
    if (box.classList.contains("chart-clickable")) {
      box.on("plotly_click", function (event) {
        var url = event && event.points && event.points.length ? urlOf(event.points[0]) : null;
        if (url) window.location.assign(url);
      });
    }
  });
})();
