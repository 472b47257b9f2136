// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Styles that only make sense with this script (the folded menu) hang on this class.
  document.documentElement.classList.add("js");

  function on(type, fn, capture) { document.addEventListener(type, fn, !!capture); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // ---- Menus -------------------------------------------------------------
  // The Menu button (phones) folds the account menu and the project menu.
  on("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest(".menu-toggle");
    if (!btn) return;
    var open = !document.body.classList.contains("nav-open");
    document.body.classList.toggle("nav-open", open);
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });
  // Close open menus when clicking elsewhere.
  on("click", function (ev) {
    $all("details[open]").forEach(function (d) {
      if (!d.contains(ev.target) && !d.classList.contains("role-perms")) d.removeAttribute("open");
    });
  });

  // ---- Copy buttons ------------------------------------------------------
  // data-copy-text holds the value; data-copy names the element whose text is copied.
  on("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button[data-copy], button[data-copy-text]");
    if (!btn) return;
    var src = btn.hasAttribute("data-copy") ? document.querySelector(btn.getAttribute("data-copy")) : null;
    var text = btn.hasAttribute("data-copy-text") ? btn.getAttribute("data-copy-text") : (src ? src.textContent.trim() : "");
    if (text === "") return;
    function done() {
      btn.classList.add("copied");
      btn.textContent = "Copied";
      setTimeout(function () { btn.classList.remove("copied"); btn.textContent = "Copy"; }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { if (src) selectText(src); });
    } else if (src) {
      selectText(src);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
    } else {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "visually-hidden";
      document.body.appendChild(ta);
      ta.select();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* nothing to do */ }
      ta.remove();
      btn.focus();
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
    $all('[hx-history="false"]').forEach(function (e) { e.remove(); });
  });

  // ---- Dialogs -----------------------------------------------------------
  // Every [role=dialog][aria-modal=true] on the page takes the focus when it
  // shows, keeps Tab inside, closes on Escape (unless data-keep-open: the
  // one-time secret) and gives the focus back to what opened it.
  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  var lastActive = null; // what had the focus when the last request started
  var stack = [];        // open dialogs, the topmost last: {overlay, dialog, back}

  // locate remembers how to find an element again after htmx replaced it.
  function locate(el) {
    if (!el || el === document.body) return null;
    if (el.id) return { sel: "#" + CSS.escape(el.id), i: 0, el: el };
    var tid = el.getAttribute("data-testid");
    if (tid) {
      var sel = '[data-testid="' + tid + '"]';
      return { sel: sel, i: $all(sel).indexOf(el), el: el };
    }
    return { sel: null, el: el };
  }
  function find(loc) {
    if (!loc) return null;
    if (loc.el && document.contains(loc.el)) return loc.el;
    if (!loc.sel) return null;
    var all = $all(loc.sel);
    return all[loc.i] || all[0] || null;
  }
  function focusables(root) {
    return $all(FOCUSABLE, root).filter(function (e) { return e.offsetParent !== null || e === document.activeElement; });
  }
  function topDialog() { return stack.length ? stack[stack.length - 1] : null; }

  function openDialog(dialog) {
    if (stack.some(function (d) { return d.dialog === dialog; })) return;
    var overlay = dialog.closest(".overlay") || dialog;
    var active = document.activeElement;
    var back = locate(active && active !== document.body && !overlay.contains(active) ? active : lastActive);
    stack.push({ overlay: overlay, dialog: dialog, back: back });
    var first = dialog.querySelector("[autofocus], [data-autofocus]") || focusables(dialog)[0] || dialog;
    if (first === dialog) dialog.setAttribute("tabindex", "-1");
    first.focus();
  }

  function closeDialog(entry) {
    var i = stack.indexOf(entry);
    if (i < 0) return;
    stack.splice(i, 1);
    entry.overlay.remove();
    if (entry.onClose) entry.onClose();
    var back = find(entry.back);
    if (!back) {
      back = document.querySelector("main h1, main");
      if (back && !back.hasAttribute("tabindex")) back.setAttribute("tabindex", "-1");
    }
    if (back) back.focus();
  }

  function scanDialogs() {
    // Forget dialogs that htmx swapped away.
    stack = stack.filter(function (d) { return document.contains(d.dialog); });
    $all('[role="dialog"][aria-modal="true"]').forEach(openDialog);
  }
  on("DOMContentLoaded", scanDialogs);
  on("htmx:load", scanDialogs);
  on("htmx:afterSettle", scanDialogs);
  on("htmx:beforeRequest", function (ev) {
    var a = document.activeElement;
    lastActive = a && a !== document.body ? a : ev.detail.elt;
    // A refusal shown beside a row ("the last admin who is a person")
    // speaks of the list as it was: the next change makes it stale.
    $all("[data-transient]").forEach(function (e) { e.remove(); });
  });

  on("keydown", function (ev) {
    var top = topDialog();
    if (ev.key === "Escape") {
      var menus = $all("details[open]").filter(function (d) { return !d.classList.contains("role-perms"); });
      if (menus.length && (!top || menus.some(function (d) { return top.dialog.contains(d); }))) {
        menus.forEach(function (d) {
          d.removeAttribute("open");
          var s = d.querySelector("summary");
          if (s && d.contains(document.activeElement)) s.focus();
        });
        return;
      }
      if (top && !top.dialog.hasAttribute("data-keep-open")) {
        ev.preventDefault();
        closeDialog(top);
      }
      return;
    }
    if (ev.key !== "Tab" || !top) return;
    var items = focusables(top.dialog);
    if (items.length === 0) { ev.preventDefault(); top.dialog.focus(); return; }
    var first = items[0], last = items[items.length - 1];
    if (!top.dialog.contains(document.activeElement)) {
      ev.preventDefault();
      first.focus();
    } else if (ev.shiftKey && document.activeElement === first) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault();
      first.focus();
    }
  });
  // Focus that wanders out of a dialog (a click on the overlay) comes back.
  on("focusin", function (ev) {
    var top = topDialog();
    if (top && !top.dialog.contains(ev.target) && document.contains(top.dialog)) {
      var items = focusables(top.dialog);
      (items[0] || top.dialog).focus();
    }
  });
  // [data-dialog-close] (Cancel, Done, "I have saved it") closes its dialog;
  // without this script it is a link back to the page. Caught on the way
  // down, before htmx's boost would follow the link.
  on("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-dialog-close]");
    if (!btn) return;
    var dialog = btn.closest('[role="dialog"], [role="alertdialog"]');
    if (!dialog) return;
    // A click can come before the dialog's htmx events: take it in first.
    openDialog(dialog);
    var entry = stack.filter(function (d) { return d.dialog === dialog; })[0];
    ev.preventDefault();
    ev.stopPropagation();
    closeDialog(entry);
  }, true);

  // ---- Confirmations -----------------------------------------------------
  // hx-confirm asks in the console's own dialog, not the browser's confirm().
  // The question's first sentence is the title, the rest says what follows;
  // a bulk action (data-confirm-select) names the rows chosen.
  function confirmDialog(title, text, items, okLabel, danger, onOK, onCancel) {
    var overlay = document.createElement("div");
    overlay.className = "overlay";
    overlay.setAttribute("data-testid", "confirm-dialog");
    var d = document.createElement("div");
    d.className = "dialog";
    d.setAttribute("role", "alertdialog");
    d.setAttribute("aria-modal", "true");
    d.setAttribute("aria-labelledby", "confirm-title");
    d.setAttribute("aria-describedby", "confirm-text");
    var h = document.createElement("h2");
    h.id = "confirm-title";
    h.textContent = title;
    h.setAttribute("data-testid", "confirm-title");
    var p = document.createElement("p");
    p.id = "confirm-text";
    p.textContent = text;
    p.setAttribute("data-testid", "confirm-text");
    d.appendChild(h);
    if (text) d.appendChild(p);
    if (items && items.length) {
      var ul = document.createElement("ul");
      ul.className = "confirm-list";
      ul.setAttribute("data-testid", "confirm-items");
      items.forEach(function (t) { var li = document.createElement("li"); li.textContent = t; ul.appendChild(li); });
      d.appendChild(ul);
    }
    var actions = document.createElement("div");
    actions.className = "actions";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.setAttribute("data-testid", "confirm-cancel");
    var ok = document.createElement("button");
    ok.type = "button";
    ok.className = danger ? "danger" : "primary";
    ok.textContent = okLabel;
    ok.setAttribute("data-testid", "confirm-ok");
    actions.appendChild(cancel);
    actions.appendChild(ok);
    d.appendChild(actions);
    overlay.appendChild(d);
    document.body.appendChild(overlay);
    // Cancel is where the focus starts: Enter alone changes nothing.
    cancel.setAttribute("data-autofocus", "");
    openDialog(d);
    var entry = topDialog();
    var confirmed = false;
    entry.onClose = function () { if (!confirmed && onCancel) onCancel(); };
    cancel.addEventListener("click", function () { closeDialog(entry); });
    ok.addEventListener("click", function () { confirmed = true; closeDialog(entry); onOK(); });
  }

  function splitQuestion(q) {
    var m = /^(.*?\?)\s+(.*)$/.exec(q);
    return m ? [m[1], m[2]] : [q, ""];
  }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // bulkQuestion names what a hygiene bulk action will touch, from the
  // checked rows: "Delete 2 service accounts: CI robot, Nightly — with 3
  // keys and 5 memberships".
  function bulkQuestion(btn) {
    var form = btn.form || btn.closest("form");
    var rows = form ? $all("input[type=checkbox][name=id]:checked", form) : [];
    if (rows.length === 0) return null;
    var names = rows.map(function (r) { return r.getAttribute("data-name") || r.value; });
    var q = btn.getAttribute("data-confirm-verb") + " " +
      plural(rows.length, btn.getAttribute("data-confirm-one"), btn.getAttribute("data-confirm-many")) + ": " + names.join(", ");
    var withWhat = btn.getAttribute("data-confirm-with");
    if (withWhat) {
      var keys = 0, memberships = 0;
      rows.forEach(function (r) {
        keys += parseInt(r.getAttribute("data-keys") || "0", 10);
        memberships += parseInt(r.getAttribute("data-memberships") || "0", 10);
      });
      q += " — with " + plural(keys, "key", "keys") + " and " + plural(memberships, "membership", "memberships");
    }
    return { title: q, names: names };
  }

  on("htmx:confirm", function (ev) {
    var elt = ev.detail.elt;
    var question = ev.detail.question;
    if (!question) return;
    ev.preventDefault();
    var title, text, items = null;
    var bulk = elt.hasAttribute("data-confirm-verb") ? bulkQuestion(elt) : null;
    if (elt.hasAttribute("data-confirm-verb") && !bulk) {
      // Nothing selected: the server says what to do.
      ev.detail.issueRequest(true);
      return;
    }
    if (bulk) {
      title = bulk.title + "?";
      text = question;
    } else {
      var parts = splitQuestion(question);
      title = parts[0];
      text = parts[1];
    }
    var label = elt.getAttribute("data-confirm-label") || (elt.textContent || "").replace(/…/g, "").trim() || "Confirm";
    var danger = elt.classList.contains("danger") || elt.classList.contains("danger-outline") ||
      elt.classList.contains("danger-item") || !!elt.querySelector(".danger, .danger-outline") || /^(Delete|Remove|Revoke|Disable|Lock)/.test(label);
    confirmDialog(title, text, items, label, danger, function () { ev.detail.issueRequest(true); });
  });

  // ---- Role pickers --------------------------------------------------------
  // A role changes only with its form's Save button; meanwhile it says so.
  on("change", function (ev) {
    var sel = ev.target;
    if (!sel.matches || !sel.matches("select[data-role-select]")) return;
    var form = sel.form;
    var note = form && form.querySelector("[data-unsaved]");
    if (!note) return;
    var changed = sel.value !== sel.getAttribute("data-saved");
    note.hidden = !changed;
  });

  // ---- Toasts ------------------------------------------------------------
  // A toast fades after a while, unless pointed at or focused; its button
  // closes it at once.
  var TOAST_MS = 6000;
  function ageToast(t) {
    clearTimeout(t.__timer);
    t.__timer = setTimeout(function () {
      if (t.matches(":hover") || t.contains(document.activeElement)) { ageToast(t); return; }
      t.remove();
    }, TOAST_MS);
  }
  function ageToasts() {
    $all(".toast:not([data-aging])").forEach(function (t) {
      t.setAttribute("data-aging", "1");
      t.addEventListener("mouseenter", function () { clearTimeout(t.__timer); });
      t.addEventListener("mouseleave", function () { ageToast(t); });
      t.addEventListener("focusin", function () { clearTimeout(t.__timer); });
      t.addEventListener("focusout", function () { ageToast(t); });
      ageToast(t);
    });
  }
  on("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-toast-close]");
    if (btn) btn.closest(".toast").remove();
  });
  on("DOMContentLoaded", ageToasts);
  on("htmx:afterSettle", ageToasts);

  // ---- Times that pass while the page is open ------------------------------
  // Countdowns ("stops working in 23 h 12 min", "expires in 4 min") keep
  // counting, and when a key's time is up its list comes fresh from the
  // server, so "active" never outlives the key.
  function left(ms) {
    var m = Math.floor(ms / 60000);
    if (m < 1) return "less than a minute";
    if (m < 60) return m + " min";
    if (m < 48 * 60) return Math.floor(m / 60) + " h " + (m % 60) + " min";
    return Math.floor(m / 1440) + " d " + Math.floor((m % 1440) / 60) + " h";
  }
  function tick() {
    $all("[data-countdown-until]").forEach(function (e) {
      var ms = Date.parse(e.getAttribute("data-countdown-until")) - Date.now();
      if (ms > 0) e.textContent = (e.getAttribute("data-countdown-text") || "stops working in") + " " + left(ms);
    });
  }
  setInterval(tick, 30000);
  var refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    var box = document.querySelector("[data-refresh-at-countdown]");
    if (!box || !window.htmx) return;
    var next = Infinity;
    $all("[data-countdown-until]", box).forEach(function (e) {
      next = Math.min(next, Date.parse(e.getAttribute("data-countdown-until")));
    });
    if (!isFinite(next)) return;
    // setTimeout holds at most about 24 days.
    var wait = Math.min(Math.max(next - Date.now() + 1000, 1000), 2147483647);
    refreshTimer = setTimeout(function refresh() {
      var current = document.querySelector("[data-refresh-at-countdown]");
      if (!current) return;
      if (current.querySelector('[role="dialog"]')) { refreshTimer = setTimeout(refresh, 5000); return; }
      window.htmx.ajax("GET", location.pathname, { target: "#" + current.id, select: "#" + current.id, swap: "outerHTML" });
    }, wait);
  }
  on("DOMContentLoaded", scheduleRefresh);
  on("htmx:afterSettle", scheduleRefresh);
})();
