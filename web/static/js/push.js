// Push notifications on the profile page. Permission is asked only after the button is pressed.
(function () {
  "use strict";
  var root = document.querySelector("[data-push]");
  if (!root) return;

  // The page renders these from the catalogue, in the reader's language (auth/_push.html).
  var TEXT = {};
  try { TEXT = JSON.parse(root.querySelector("[data-push-messages]").textContent); }
  catch (e) { TEXT = {}; }
  var $ = function (name) { return root.querySelector("[data-push-" + name + "]"); };
  var statusLine = $("status");
  var enableButton = $("enable");
  var disableButton = $("disable");
  var currentId = null;

  function show(element, visible) { if (element) element.hidden = !visible; }
  function say(text) { statusLine.textContent = text || ""; show(statusLine, Boolean(text)); }
  function busy(on) {
    [enableButton, disableButton].forEach(function (b) { b.disabled = on; b.setAttribute("aria-busy", on ? "true" : "false"); });
  }
  function state(subscribed) {
    show(enableButton, !subscribed);
    show(disableButton, subscribed);
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (e) { return ""; }
  }

  function call(url, body) {
    return fetch(url, {
      method: body === undefined ? "GET" : "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "x-csrftoken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, key) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return true;
    var a = new Uint8Array(current);
    if (a.length !== key.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== key[i]) return false;
    return true;
  }

  function markThisDevice() {
    root.querySelectorAll("[data-this-device]").forEach(function (el) { el.hidden = true; });
    if (currentId === null) return;
    var mark = root.querySelector('[data-device-id="' + currentId + '"] [data-this-device]');
    if (mark) mark.hidden = false;
  }

  function refreshDevices() {
    if (window.htmx) window.htmx.trigger(document.body, "push-changed");
  }

  var isIos = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  var standalone = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window &&
    window.isSecureContext;

  if (!supported) {
    show($(isIos && !standalone ? "ios" : "unsupported"), true);
    return;
  }

  var registration = navigator.serviceWorker.register("/sw.js", { scope: "/" })
    .then(function () { return navigator.serviceWorker.ready; });

  function refresh() {
    if (Notification.permission === "denied") {
      show($("denied"), true);
      state(false);
      show(enableButton, false);
      return Promise.resolve();
    }
    return registration
      .then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (subscription) {
        if (!subscription || Notification.permission !== "granted") { currentId = null; state(false); return; }
        return call("/push/status", { endpoint: subscription.endpoint }).then(function (answer) {
          currentId = answer.known ? answer.id : null;
          state(answer.known);
          markThisDevice();
        });
      })
      .catch(function () { state(false); });
  }

  function enable() {
    busy(true);
    say(TEXT.working);
    var publicKey;
    // The one place where the browser asks for permission: right after the press.
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") {
          if (permission === "denied") { show($("denied"), true); show(enableButton, false); say(""); }
          else say(TEXT.dismissed);
          throw null;
        }
        return call("/push/key");
      })
      .then(function (answer) {
        if (!answer.enabled) { say(TEXT.notConfigured); throw null; }
        publicKey = keyBytes(answer.publicKey);
        return registration;
      })
      .then(function (reg) {
        return reg.pushManager.getSubscription().then(function (existing) {
          if (existing && !sameKey(existing, publicKey)) {
            return existing.unsubscribe().then(function () { return null; });
          }
          return existing;
        }).then(function (existing) {
          return existing || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey });
        });
      })
      .then(function (subscription) { return call("/push/subscriptions", subscription.toJSON()); })
      .then(function (answer) {
        currentId = answer.id;
        state(true);
        say(TEXT.on);
        refreshDevices();
      })
      .catch(function (error) { if (error !== null) say(TEXT.failed); })
      .then(function () { busy(false); });
  }

  function disable() {
    busy(true);
    registration
      .then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (subscription) {
        if (!subscription) return;
        return call("/push/unsubscribe", { endpoint: subscription.endpoint })
          .catch(function () {})
          .then(function () { return subscription.unsubscribe(); });
      })
      .then(function () { currentId = null; state(false); say(TEXT.off); refreshDevices(); })
      .catch(function () { say(TEXT.failed); })
      .then(function () { busy(false); });
  }

  enableButton.addEventListener("click", enable);
  disableButton.addEventListener("click", disable);

  // The device in hand was removed from the list: stop its subscription too.
  document.body.addEventListener("push-device-removed", function (event) {
    if (event.detail && currentId !== null && event.detail.id === currentId) {
      registration
        .then(function (reg) { return reg.pushManager.getSubscription(); })
        .then(function (s) { return s && s.unsubscribe(); })
        .catch(function () {})
        .then(function () { currentId = null; state(false); say(TEXT.off); });
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "push-devices") markThisDevice();
  });

  state(false);
  refresh();
})();
