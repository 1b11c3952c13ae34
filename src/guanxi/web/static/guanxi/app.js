/* Guanxi CRM — the little behaviour htmx does not cover: confirmations, menus, bulk selection. */
(function () {
  "use strict";

  function bulkForm() { return document.querySelector("form[data-bulk]"); }

  function refreshBulk() {
    var form = bulkForm();
    if (!form) return;
    var boxes = document.querySelectorAll('input[name="ids"][form="bulk"]');
    var n = 0;
    boxes.forEach(function (b) { if (b.checked) n++; });
    form.classList.toggle("visible", n > 0);
    var out = form.querySelector("[data-selected-count]");
    if (out) out.textContent = n;
    var all = document.querySelector("[data-select-all]");
    if (all) all.checked = n > 0 && n === boxes.length;
    var action = form.querySelector("[data-bulk-action]");
    form.querySelectorAll("[data-for]").forEach(function (el) {
      var show = action && el.getAttribute("data-for").split(" ").indexOf(action.value) >= 0;
      el.hidden = !show;
      el.disabled = !show;
    });
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="ids"][form="bulk"]').forEach(function (b) { b.checked = t.checked; });
    }
    if (t.matches('input[name="ids"], [data-bulk-action]')) refreshBulk();
    if (t.matches("[data-select-all]")) refreshBulk();
  });

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest("[data-clear-selection]")) {
      document.querySelectorAll('input[name="ids"][form="bulk"], [data-select-all]').forEach(function (b) { b.checked = false; });
      refreshBulk();
    }
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(t)) d.removeAttribute("open");
    });
    var results = document.getElementById("search-results");
    if (results && !t.closest(".search")) results.innerHTML = "";
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var results = document.getElementById("search-results");
      if (results) results.innerHTML = "";
      document.querySelectorAll("details.menu[open]").forEach(function (d) { d.removeAttribute("open"); });
    }
    if (e.key === "/" && !e.target.matches("input, textarea, select")) {
      var s = document.getElementById("global-search");
      if (s) { e.preventDefault(); s.focus(); }
    }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var submitter = e.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { e.preventDefault(); return; }
    if (form.hasAttribute("data-next")) {
      var next = form.querySelector('input[name="next"]');
      if (next) next.value = window.location.pathname + window.location.search;
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function () {
    var meta = document.querySelector(".results-meta[data-query]");
    var input = document.getElementById("save-view-query");
    if (meta && input) input.value = meta.getAttribute("data-query");
    refreshBulk();
  });
  document.addEventListener("DOMContentLoaded", refreshBulk);
})();
