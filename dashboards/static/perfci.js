// Colour scheme toggle (system, light, dark; remembered) and the overview's filters.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("perfci-theme"); } catch (e) { /* storage may be off */ }
  if (saved === "light" || saved === "dark") root.dataset.theme = saved;

  function toggleTheme() {
    var order = ["", "light", "dark"];
    var next = order[(order.indexOf(root.dataset.theme || "") + 1) % order.length];
    if (next) root.dataset.theme = next; else delete root.dataset.theme;
    try { localStorage.setItem("perfci-theme", next); } catch (e) { /* ignore */ }
    document.dispatchEvent(new Event("perfci-theme"));
  }

  function setUpFilters(form) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.bench"));
    var shown = document.getElementById("shown");
    function apply() {
      var text = form.elements.text.value.trim().toLowerCase();
      var want = {};
      ["machine", "backend", "device", "dtype"].forEach(function (f) {
        if (form.elements[f]) want[f] = form.elements[f].value;
      });
      var count = 0;
      rows.forEach(function (row) {
        var ok = !text || row.dataset.text.indexOf(text) >= 0;
        for (var f in want) {
          if (!ok || !want[f]) continue;
          var values = f === "machine" ? row.dataset.machine.split("\n") : [row.dataset[f]];
          ok = values.indexOf(want[f]) >= 0;
        }
        row.hidden = !ok;
        if (ok) count++;
      });
      document.querySelectorAll(".group").forEach(function (g) {
        g.hidden = !g.querySelector("tr.bench:not([hidden])");
      });
      shown.textContent = count + " of " + rows.length + " shown";
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme");
    if (button) button.addEventListener("click", toggleTheme);
    var form = document.getElementById("filters");
    if (form) setUpFilters(form);
  });
})();
