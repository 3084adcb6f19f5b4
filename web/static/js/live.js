// Live pages. The htmx `ws` extension keeps one WebSocket per live view (an element with
// ws-connect and data-live="request|board|jobs|field|my-requests|counts|calls"), reconnects with
// backoff and swaps what the server sends out of band. This file adds what the extension does
// not know about:
// - the hello that tells the server what the page already shows (catch-up after reconnects);
// - the quiet connection state in #live-status, and «sign in again» when the session is gone;
// - a guard that never shows a timeline entry twice, and moves (not copies) list rows;
// - keeping what the user is typing when their available actions are re-rendered;
// - control messages (JSON, not HTML): "gone", "refresh";
// - the board's counters, fetched again after its rows change;
// - the optional sound for new requests on the board.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var sockets = [];  // [{root, ws}]
  var leaving = false;
  var gone = false;
  var keptActions = null;
  var SOUND_KEY = "zayavka.liveSound";

  function show(state, text) {
    if (!status || (gone && state !== "gone")) return;
    if (status.getAttribute("data-state") === "signed-out") return;
    status.hidden = false;
    status.setAttribute("data-state", state);
    status.textContent = text || status.getAttribute("data-" + state) || "";
  }

  function maxEntryId() {
    var max = 0;
    document.querySelectorAll("#timeline [data-entry-id]").forEach(function (li) {
      var n = parseInt(li.getAttribute("data-entry-id"), 10);
      if (n > max) max = n;
    });
    return max;
  }

  function rowIds(listId) {
    var ids = [];
    document.querySelectorAll("#" + listId + " > [data-request-id]").forEach(function (li) {
      ids.push(parseInt(li.getAttribute("data-request-id"), 10));
    });
    return ids;
  }

  // The lists each kind of live page shows (element ids).
  var LISTS = {
    board: ["board"],
    jobs: ["jobs"],
    field: ["field-jobs", "field-done"],
    "my-requests": ["my-requests"],
  };

  // The server closed because nobody is signed in (session expired, or signed out elsewhere):
  // no more reconnecting, a quiet link to sign in and come back here.
  function signedOut() {
    gone = true;
    if (!status) return;
    var link = document.createElement("a");
    link.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    link.textContent = status.getAttribute("data-signed-out") || "";
    status.hidden = false;
    status.setAttribute("data-state", "signed-out");
    status.textContent = "";
    status.appendChild(link);
  }

  function hello(root, search) {
    var kind = root.getAttribute("data-live");
    var message = { type: "hello", view: kind };
    if (kind === "request") {
      message.last_entry = maxEntryId();
    } else if (LISTS[kind]) {
      message.search = search == null ? location.search : search;
      message.rows = [];
      LISTS[kind].forEach(function (listId) { message.rows = message.rows.concat(rowIds(listId)); });
    }
    return JSON.stringify(message);
  }

  function socketOf(root) {
    for (var i = 0; i < sockets.length; i++) if (sockets[i].root === root) return sockets[i];
    return null;
  }

  function sayHelloAgain(kind, search) {
    sockets.forEach(function (entry) {
      if (!document.body.contains(entry.root)) return;
      if (kind && entry.root.getAttribute("data-live") !== kind) return;
      entry.ws.send(hello(entry.root, search));
    });
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    var root = event.target;
    var entry = socketOf(root);
    if (entry) entry.ws = event.detail.socketWrapper;
    else sockets.push({ root: root, ws: event.detail.socketWrapper });
    event.detail.socketWrapper.send(hello(root));
    show("online");
  });

  document.addEventListener("htmx:wsClose", function (event) {
    if (leaving) return;
    var code = event.detail.event && event.detail.event.code;
    if (code === 4401) {
      signedOut();
    } else if (code === 4403) {
      gone = true;
      show("gone");
    } else {
      show("offline");
    }
  });
  document.addEventListener("htmx:wsError", function () {
    if (!leaving) show("offline");
  });
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("beforeunload", function () { leaving = true; });

  // A row or form that is re-rendered while its menu is open stays open (e.g. the quick
  // assign on the board): remember open <details> by their nearest element with an id.
  var openBefore = [];
  function detailsKey(details) {
    var owner = details.parentElement && details.parentElement.closest("[id]");
    if (!owner) return null;
    return [owner.id, Array.prototype.indexOf.call(owner.querySelectorAll("details"), details)];
  }
  function reopenDetails(keys) {
    keys.forEach(function (key) {
      var owner = document.getElementById(key[0]);
      var details = owner && owner.querySelectorAll("details")[key[1]];
      if (details && !details.open) details.open = true;
    });
  }

  // Control messages are JSON; everything else is HTML for the extension to swap.
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var text = event.detail.message;
    if (typeof text === "string" && text.charAt(0) !== "{") {
      openBefore = [];
      document.querySelectorAll("details[open]").forEach(function (details) {
        var key = detailsKey(details);
        if (key) openBefore.push(key);
      });
    }
    if (typeof text !== "string" || text.charAt(0) !== "{") return;
    event.preventDefault();
    var message;
    try { message = JSON.parse(text); } catch (e) { return; }
    if (message.type === "gone") {
      gone = true;
      show("gone", message.message);
    } else if (message.type === "refresh" && message.target) {
      var target = document.getElementById(message.target);
      if (target && window.htmx) window.htmx.trigger(target, "live-refresh");
    }
  });

  // ---- the actions a viewer may take: keep what they are doing ----
  function formsByAction(root) {
    var forms = {};
    root.querySelectorAll("form[action]").forEach(function (form) {
      forms[form.getAttribute("action")] = form;
    });
    return forms;
  }

  function sameActions(current, incoming) {
    var a = Object.keys(formsByAction(current)).sort().join("|");
    var b = Object.keys(formsByAction(incoming)).sort().join("|");
    return a === b;
  }

  function rememberTyping(root) {
    var kept = { open: [], values: {}, focus: null };
    root.querySelectorAll("details[open]").forEach(function (details) {
      var form = details.querySelector("form[action]");
      if (form) kept.open.push(form.getAttribute("action"));
    });
    root.querySelectorAll("textarea[id], select[id], input[id]:not([type=hidden]):not([type=file])")
      .forEach(function (field) { kept.values[field.id] = field.value; });
    if (document.activeElement && root.contains(document.activeElement)) {
      kept.focus = document.activeElement.id || null;
    }
    return kept;
  }

  function restoreTyping(kept) {
    var root = document.getElementById("request-actions");
    if (!root || !kept) return;
    root.querySelectorAll("details").forEach(function (details) {
      var form = details.querySelector("form[action]");
      if (form && kept.open.indexOf(form.getAttribute("action")) >= 0) details.open = true;
    });
    Object.keys(kept.values).forEach(function (id) {
      var field = document.getElementById(id);
      if (field && root.contains(field)) field.value = kept.values[id];
    });
    if (kept.focus) {
      var focused = document.getElementById(kept.focus);
      if (focused) focused.focus();
    }
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var fragment = event.detail.fragment;
    if (!fragment || !fragment.querySelectorAll) return;
    // The server never sends an entry twice on one connection; after a reconnect, or next to
    // the page's own update, the same entry can still arrive twice: keep the first.
    if (target.id === "timeline") {
      fragment.querySelectorAll("[id^='entry-']").forEach(function (li) {
        if (document.getElementById(li.id)) li.remove();
        else li.classList.add("is-live");
      });
      return;
    }
    // A row that arrives where it now belongs replaces the one still shown elsewhere.
    fragment.querySelectorAll("[id^='row-']").forEach(function (row) {
      var old = document.getElementById(row.id);
      if (old && old !== target && !target.contains(old)) old.remove();
    });
    if (target.id === "request-actions") {
      var incoming = fragment.querySelector ? fragment.querySelector("#request-actions") : null;
      if (incoming && sameActions(target, incoming)) {
        // Same actions, newer version: update the hidden fields, keep the user's typing,
        // open forms and chosen photo exactly as they are.
        var fresh = formsByAction(incoming);
        var shown = formsByAction(target);
        Object.keys(fresh).forEach(function (action) {
          fresh[action].querySelectorAll("input[type=hidden][name]").forEach(function (input) {
            var mine = shown[action].querySelector("input[type=hidden][name='" + input.name + "']");
            if (mine) mine.value = input.value;
          });
        });
        event.detail.shouldSwap = false;
      } else {
        keptActions = rememberTyping(target);
      }
    }
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    // The board's counters follow its rows: fetched again (debounced by their hx-trigger).
    var root = event.target;
    var counts = document.getElementById("board-counts");
    if (counts && window.htmx && root && root.getAttribute && root.getAttribute("data-live") === "board") {
      window.htmx.trigger(counts, "live-refresh");
    }
    reopenDetails(openBefore);
    openBefore = [];
    if (keptActions) {
      restoreTyping(keptActions);
      keptActions = null;
    }
    var arrived = document.querySelectorAll(".is-new:not([data-live-announced])");
    arrived.forEach(function (row) { row.setAttribute("data-live-announced", ""); });
    if (arrived.length && soundOn()) beep();
  });

  // A list the page replaced itself (filters) or a swap that missed its target: start over.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || (target.id !== "board" && target.id !== "jobs")) return;
    var info = event.detail.pathInfo || {};
    var path = info.finalRequestPath || info.requestPath || location.pathname + location.search;
    var at = path.indexOf("?");
    sayHelloAgain(target.id, at >= 0 ? path.slice(at) : "");
  });
  document.addEventListener("htmx:oobErrorNoTarget", function () { sayHelloAgain(null); });

  // ---- the optional sound ----
  var audio = null;
  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) === "1"; } catch (e) { return false; }
  }
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var now = audio.currentTime;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
      tone.connect(gain).connect(audio.destination);
      tone.start(now);
      tone.stop(now + 0.4);
    } catch (e) { /* no audio: the highlight is enough */ }
  }
  function initSoundToggle() {
    document.querySelectorAll("[data-live-sound]").forEach(function (box) {
      box.checked = soundOn();
      box.addEventListener("change", function () {
        try { window.localStorage.setItem(SOUND_KEY, box.checked ? "1" : "0"); } catch (e) {}
        if (box.checked) beep();  // a click unlocks audio in browsers that require a gesture
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initSoundToggle);
  else initSoundToggle();
})();
