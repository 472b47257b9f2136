// Passkeys and security keys (WebAuthn). The server sends the options as
// JSON with binary fields in base64url; this file turns them into what
// navigator.credentials takes, and the browser's answer back into JSON,
// which goes to the server in a hidden form field ([data-passkey-field]).
// Buttons that need it are hidden in the page and shown here, where the
// browser has passkeys.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: fromB64(d.id) }); });
  }
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64(pk.user.id) });
    pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }
  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64(pk.challenge);
    pk.allowCredentials = descriptors(pk.allowCredentials);
    return { publicKey: pk };
  }
  function credentialJSON(c) {
    var r = c.response, out = {
      id: c.id, rawId: toB64(c.rawId), type: c.type,
      response: { clientDataJSON: toB64(r.clientDataJSON) },
      clientExtensionResults: {}
    };
    if (c.authenticatorAttachment) out.authenticatorAttachment = c.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) out.response.userHandle = toB64(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }
  function submit(form, value) {
    form.querySelector("[data-passkey-field]").value = value;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
  function fail(form, message) {
    var el = form.querySelector("[data-passkey-error]");
    if (el) { el.textContent = message; el.hidden = false; } else { window.alert(message); }
  }
  var cancelled = "The passkey was not used (cancelled, timed out, or not found on this device).";

  function reveal(root) {
    root.querySelectorAll("[data-passkey-get], [data-passkey-create], form[data-passkey-signin]").forEach(function (el) {
      el.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { reveal(ev.target); });

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-passkey-get], [data-passkey-create]");
    if (!btn) return;
    ev.preventDefault();
    var form = btn.closest("form");
    btn.disabled = true;
    var done = function () { btn.disabled = false; };
    if (btn.hasAttribute("data-passkey-create")) {
      var options = creationOptions(JSON.parse(btn.getAttribute("data-passkey-create")));
      navigator.credentials.create(options).then(function (c) { submit(form, credentialJSON(c)); },
        function () { fail(form, cancelled); }).then(done);
      return;
    }
    fetch(btn.getAttribute("data-passkey-get"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || "The passkey cannot be used right now.");
        return body;
      });
    }).then(function (o) {
      return navigator.credentials.get(requestOptions(o)).then(function (c) { submit(form, credentialJSON(c)); },
        function () { fail(form, cancelled); });
    }).catch(function (e) { fail(form, e.message); }).then(done);
  });
})();
