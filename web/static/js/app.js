// Small behaviours shared by every page. Pages work without it; it only makes them nicer.
(function () {
  "use strict";
  // Forms that arrived over a live channel carry an empty CSRF field (the same bytes go to
  // every page of an audience); fill it from this page's own token before the form is sent.
  function pageToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (e) { return ""; }
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    form.querySelectorAll("input[name=_csrf_token]").forEach(function (input) {
      if (!input.value) input.value = pageToken();
    });
  }, true);
  // Disable a form's submit button while it is being sent, so a double click files once.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A print form stays on its page, so its button must stay pressable.
    if (!(form instanceof HTMLFormElement) || form.hasAttribute("hx-post") || form.hasAttribute("data-print")) return;
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    }, 0);
  });
  // Buttons that only reload the page (no inline handlers: the CSP forbids them).
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-reload]") : null;
    if (target) location.reload();
  });
  // The print form notes on the request's timeline that the sheet was printed, then prints;
  // the sheet prints even if the note could not be sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-print")) return;
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json", "x-csrftoken": pageToken() },
      credentials: "same-origin",
    }).catch(function () {}).then(function () { window.print(); });
  });
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
