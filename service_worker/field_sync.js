/*
 * Zayavka — Background Sync of field completions, inside the service worker.
 * Served at /sw-field-sync.js; /sw.js loads it with importScripts("/sw-field-sync.js").
 *
 * A field page stores a completion (photo + «выполнено» + the phone's key) in IndexedDB and
 * registers the sync tag below. The browser fires `sync` when it has a connection again —
 * even if the page is closed — and this sends what waits. The page itself also sends on open
 * and on the `online` event, for browsers without Background Sync; the key makes a second
 * send of the same completion harmless.
 */
importScripts("/static/js/offline-queue.js");

(function () {
  "use strict";

  var Q = self.FieldQueue;

  function tell(summary) {
    return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      list.forEach(function (client) {
        client.postMessage({ type: "field-sync", sent: summary.sent, failed: summary.failed });
      });
    });
  }

  function sendWaiting() {
    return Q.flush({}).then(function (summary) {
      return tell(summary).then(function () {
        // A rejected sync is retried by the browser later, with backoff.
        if (summary.waiting > 0) throw new Error("field completions still waiting");
      });
    });
  }

  self.addEventListener("sync", function (event) {
    if (event.tag === Q.SYNC_TAG) event.waitUntil(sendWaiting());
  });

  // A page may ask the worker to send now (e.g. from a browser without Background Sync).
  self.addEventListener("message", function (event) {
    if (event.data && event.data.type === "field-flush") {
      event.waitUntil(sendWaiting().catch(function () {}));
    }
  });
})();
