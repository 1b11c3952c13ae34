/* Guanxi CRM — draws the overview's plotly figures (JSON built on the server, see web/overview.py).
   plotly.min.js is served from the installed plotly package, never from a CDN. */
(function () {
  "use strict";

  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displayModeBar: false }).then(function () {
        el.setAttribute("data-drawn", "true");
      });
      // A bar, slice or stage with a list link opens the customer list filtered to it.
      el.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        var url = point && (point.customdata || (point.data.customdata && point.data.customdata[point.pointNumber]));
        if (typeof url === "string" && url.charAt(0) === "/") window.location.href = url;
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
