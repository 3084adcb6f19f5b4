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
  // A live count of what is left of a text's limit (data-count-of names the field). The
  // field has no maxlength, which would cut a pasted text silently; the server refuses an
  // over-long one, and this says so before sending. Counted as the server counts: trimmed,
  // in characters, not UTF-16 units.
  function showCount(counter) {
    var field = document.getElementById(counter.getAttribute("data-count-of"));
    if (!field) return;
    var max = parseInt(counter.getAttribute("data-max"), 10);
    var used = Array.from(field.value.trim()).length;
    var over = used > max;
    var template = over ? counter.getAttribute("data-msg-over") : counter.getAttribute("data-msg-left");
    counter.textContent = template.replace("{n}", String(over ? used - max : max - used)).replace("{max}", String(max));
    counter.classList.toggle("error", over);
    if (over) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
    counter.hidden = false;
  }
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLElement) || !field.id) return;
    document.querySelectorAll('[data-count-of="' + field.id + '"]').forEach(showCount);
  });
  // The phone's menu button: shown only when this script runs, so without it the links stay
  // in the bar. Escape or a tap elsewhere closes the menu; the focus goes back to the button.
  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!toggle || !menu) return;
    var bar = toggle.closest(".topbar");
    function setOpen(open) {
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("is-open", open);
    }
    toggle.hidden = false;
    bar.classList.add("has-menu");
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (event.target instanceof Node && !bar.contains(event.target)) setOpen(false);
    });
  }
  // Sections marked data-fold-narrow arrive open (a desktop, or no script) and fold on a
  // phone, so that a long dashboard opens on its summary; also in content htmx swaps in.
  function foldOnPhone(root) {
    if (!window.matchMedia("(max-width: 47.99rem)").matches) return;
    root.querySelectorAll("details[data-fold-narrow]").forEach(function (d) {
      // A link to a section (/stats#definitions) finds it open.
      var target = location.hash && document.getElementById(location.hash.slice(1));
      if (target && d.contains(target)) return;
      d.open = false;
    });
  }
  document.addEventListener("htmx:load", function (event) {
    if (event.target instanceof Element) foldOnPhone(event.target);
  });
  function ready() {
    setUpMenu();
    foldOnPhone(document);
    document.querySelectorAll("[data-count-of]").forEach(showCount);
    // After an action the page opens on its confirmation: put the focus there, so a screen
    // reader says it and the keyboard goes on from it (unless something took the focus).
    var confirmation = document.querySelector(".flash[tabindex]");
    if (confirmation && (document.activeElement === document.body || !document.activeElement)) {
      confirmation.focus();
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
