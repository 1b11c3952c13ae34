/* Guanxi CRM — "select all N matching" on the customer list (Gmail-style) and the Export menu.
   app.js keeps the page's checkboxes and the bulk bar in step; this adds the whole-filter mode. */
(function () {
  "use strict";
  var allMatching = false;

  function meta() { return document.querySelector(".results-meta[data-query]"); }
  function boxes() { return document.querySelectorAll('input[name="ids"][form="bulk"]'); }
  function checkedCount() {
    var n = 0;
    boxes().forEach(function (b) { if (b.checked) n++; });
    return n;
  }
  // The count arrives after the rows when it was not cached (#result-count is swapped in then).
  function counted() { return document.querySelector("#result-count[data-total]"); }
  function totalLabel() {
    var m = counted();
    if (!m || m.getAttribute("data-total") === "") return "…";
    var n = parseInt(m.getAttribute("data-total"), 10);
    var text = n.toLocaleString(document.documentElement.lang || undefined);
    return m.getAttribute("data-total-exact") === "1" ? text : text + "+";
  }
  function total() { var m = counted(); return m ? parseInt(m.getAttribute("data-total") || "0", 10) : 0; }
  function exact() { var m = counted(); return m && m.getAttribute("data-total-exact") === "1"; }
  function setAll(el, selector, text) { el.querySelectorAll(selector).forEach(function (x) { x.textContent = text; }); }

  function update() {
    var form = document.querySelector("form[data-bulk]");
    var all = boxes();
    var n = checkedCount();
    var pageAll = all.length > 0 && n === all.length;
    if (!pageAll) allMatching = false;
    var more = total() > all.length || !exact();
    if (form) {
      var banner = form.querySelector("[data-select-all-banner]");
      if (banner) {
        banner.hidden = !(pageAll && more);
        banner.querySelector('[data-when="page"]').hidden = allMatching;
        banner.querySelector('[data-when="all"]').hidden = !allMatching;
        setAll(banner, "[data-page-count]", String(all.length));
        setAll(banner, "[data-total-label]", totalLabel());
      }
      var flag = form.querySelector("[data-all-matching]");
      if (flag) flag.value = allMatching ? "1" : "";
      var query = form.querySelector("[data-bulk-query]");
      if (query && meta()) query.value = meta().getAttribute("data-query");
      var count = form.querySelector("[data-selected-count]");
      if (count) count.textContent = allMatching ? totalLabel() : String(n);
      // The server asks for confirmation with the exact count when the whole filter is selected.
      form.querySelectorAll("[data-confirm], [data-confirm-page]").forEach(function (b) {
        if (allMatching && b.hasAttribute("data-confirm")) {
          b.setAttribute("data-confirm-page", b.getAttribute("data-confirm"));
          b.removeAttribute("data-confirm");
        } else if (!allMatching && b.hasAttribute("data-confirm-page")) {
          b.setAttribute("data-confirm", b.getAttribute("data-confirm-page"));
          b.removeAttribute("data-confirm-page");
        }
      });
    }
    var exp = document.querySelector("form[data-export]");
    if (exp) {
      setAll(exp, "[data-export-total]", totalLabel());
      setAll(exp, "[data-export-selected]", allMatching ? totalLabel() : String(n));
      var selected = exp.querySelector('input[name="scope"][value="selected"]');
      if (selected) {
        selected.disabled = n === 0;
        if (n === 0 && selected.checked) exp.querySelector('input[name="scope"][value="all"]').checked = true;
      }
      var q = exp.querySelector("[data-export-query]");
      if (q && meta()) q.value = meta().getAttribute("data-query");
      exp.querySelector('input[name="all_matching"]').value = allMatching ? "1" : "";
    }
  }

  document.addEventListener("change", function (e) {
    if (e.target.matches('input[name="ids"], [data-select-all]')) update();
  });

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest("[data-select-matching]")) { allMatching = true; update(); }
    if (t.closest("[data-unselect-matching]")) { allMatching = false; update(); }
    if (t.closest("[data-clear-selection]")) { allMatching = false; setTimeout(update, 0); }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-export]")) return;
    update();
    form.querySelectorAll("input[data-export-id]").forEach(function (x) { x.remove(); });
    var scope = form.querySelector('input[name="scope"]:checked');
    if (scope && scope.value === "selected" && !allMatching) {
      boxes().forEach(function (b) {
        if (!b.checked) return;
        var h = document.createElement("input");
        h.type = "hidden"; h.name = "ids"; h.value = b.value; h.setAttribute("data-export-id", "");
        form.appendChild(h);
      });
    }
    var menu = form.closest("details.menu");
    if (menu) setTimeout(function () { menu.removeAttribute("open"); }, 0);
  });

  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail && e.detail.target;
    if (target && target.id === "results") {
      allMatching = false;  // a new filter: a new set of matching customers
    } else if (allMatching) {
      boxes().forEach(function (b) { b.checked = true; });  // rows loaded with "load more" join in
      var head = document.querySelector("[data-select-all]");
      if (head) head.checked = true;
    }
    update();
  });
  document.addEventListener("DOMContentLoaded", update);
})();
