// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Close open menus when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll("details[open]").forEach(function (d) { d.removeAttribute("open"); });
  });
  // Toasts fade after a while.
  function ageToasts() {
    document.querySelectorAll(".toast:not([data-aging])").forEach(function (t) {
      t.setAttribute("data-aging", "1");
      setTimeout(function () { t.remove(); }, 6000);
    });
  }
  document.addEventListener("DOMContentLoaded", ageToasts);
  document.addEventListener("htmx:afterSettle", ageToasts);
})();
