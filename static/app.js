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
  // Copy buttons: data-copy names the element whose text is copied.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button[data-copy]");
    if (!btn) return;
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src) return;
    var text = src.textContent.trim();
    function done() {
      btn.classList.add("copied");
      btn.textContent = "Copied";
      setTimeout(function () { btn.classList.remove("copied"); btn.textContent = "Copy"; }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(src); });
    } else {
      selectText(src);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
    }
  });
  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  // A one-time secret must not come back with the back/forward cache:
  // remove it before the page is put away.
  window.addEventListener("pagehide", function () {
    document.querySelectorAll('[hx-history="false"]').forEach(function (e) { e.remove(); });
  });
  // Rotation countdowns ("stops working in 23 h 12 min") keep counting.
  function left(ms) {
    var m = Math.floor(ms / 60000);
    if (m < 1) return "less than a minute";
    if (m < 60) return m + " min";
    if (m < 48 * 60) return Math.floor(m / 60) + " h " + (m % 60) + " min";
    return Math.floor(m / 1440) + " d " + Math.floor((m % 1440) / 60) + " h";
  }
  setInterval(function () {
    document.querySelectorAll("[data-countdown-until]").forEach(function (e) {
      var ms = Date.parse(e.getAttribute("data-countdown-until")) - Date.now();
      e.textContent = ms > 0 ? "stops working in " + left(ms) : "stopped working: reload the page";
    });
  }, 30000);
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
