// Small behaviours shared by every page. Pages work without it; it only makes them nicer.
(function () {
  "use strict";
  // Disable a form's submit button while it is being sent, so a double click files once.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.hasAttribute("hx-post")) return;
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    }, 0);
  });
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
