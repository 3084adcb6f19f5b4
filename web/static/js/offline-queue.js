/*
 * Zayavka — field completions waiting to be sent, kept in IndexedDB.
 *
 * Shared by the field pages (window) and the service worker (service_worker/field_sync.js
 * imports this file), so either of them can send what the other stored.
 *
 * An item: { key, requestId, url, csrf, version, photo: Blob, title, createdAt,
 *            status: "pending" | "failed", error, message, fields, leaseUntil, attempts }
 * `fields` names the form fields the server refused ("photo": take the picture again).
 * `key` is made on the phone and sent as completion_key: the server records a completion
 * once per key, so sending an item twice changes nothing. `version` is the request's as the
 * job page showed it: if the request changed before the item got through, the server refuses
 * it (error "stale") and the item stays, photo and all, to be sent again.
 */
(function (scope) {
  "use strict";

  var DB_NAME = "zayavka-field";
  var STORE = "completions";
  var SYNC_TAG = "field-completions";
  // One sender at a time (page or worker); a sender that died frees the item after this.
  var LEASE_MS = 90 * 1000;
  // A photo over one bar of signal is slow, but a hung request must not hold the item forever.
  var TIMEOUT_MS = 120 * 1000;

  var opening = null;

  function database() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var open = scope.indexedDB.open(DB_NAME, 1);
        open.onupgradeneeded = function () {
          open.result.createObjectStore(STORE, { keyPath: "key" });
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
      opening.catch(function () { opening = null; });
    }
    return opening;
  }

  // `work(store, out)` issues requests; the promise settles when the transaction commits,
  // so a resolved put() means the photo is on the disk.
  function transaction(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var out = { value: undefined };
        tx.oncomplete = function () { resolve(out.value); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
        work(tx.objectStore(STORE), out);
      });
    });
  }

  function put(item) {
    return transaction("readwrite", function (store) { store.put(item); });
  }

  function all() {
    return transaction("readonly", function (store, out) {
      store.getAll().onsuccess = function (event) { out.value = event.target.result || []; };
    });
  }

  function forRequest(requestId) {
    return all().then(function (items) {
      return items.filter(function (item) { return item.requestId === requestId; });
    });
  }

  function remove(key) {
    return transaction("readwrite", function (store) { store.delete(key); });
  }

  function update(key, patch) {
    return transaction("readwrite", function (store, out) {
      var get = store.get(key);
      get.onsuccess = function () {
        var item = get.result;
        if (!item) return;
        Object.keys(patch).forEach(function (name) { item[name] = patch[name]; });
        store.put(item);
        out.value = item;
      };
    });
  }

  // Take an item for sending unless another sender holds it; atomic across page and worker.
  function claim(key) {
    return transaction("readwrite", function (store, out) {
      var get = store.get(key);
      get.onsuccess = function () {
        var item = get.result;
        var now = Date.now();
        if (!item || item.status !== "pending" || (item.leaseUntil || 0) > now) return;
        item.leaseUntil = now + LEASE_MS;
        item.attempts = (item.attempts || 0) + 1;
        store.put(item);
        out.value = item;
      };
    });
  }

  function newKey() {
    var c = scope.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // One POST. Resolves { done, data } | { failed, error, message, fields } | { retry, offline? };
  // never rejects.
  function post(item, csrf) {
    var body = new FormData();
    body.append("photo", item.photo, "signed-work-order.jpg");
    body.append("completion_key", item.key);
    if (item.version) body.append("version", String(item.version));
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return fetch(item.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      // A signed-out session answers with a redirect to the sign-in page: keep the item.
      redirect: "manual",
      cache: "no-store",
      headers: { "Accept": "application/json", "x-csrftoken": csrf || item.csrf || "" },
      signal: controller ? controller.signal : undefined,
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      // Only our endpoint answers JSON; anything else (an offline page, a CSRF refusal with a
      // stale token, a proxy error) is not the server's word on this completion.
      if (type.indexOf("application/json") === -1) return { retry: true, status: response.status };
      return response.json().then(function (data) {
        if (response.ok && data && data.ok) return { done: true, data: data };
        if (response.status >= 500 || response.status === 429) {
          return { retry: true, status: response.status };
        }
        return {
          failed: true,
          status: response.status,
          error: (data && data.error) || "",
          message: (data && data.message) || "",
          fields: (data && data.fields) || [],
        };
      }, function () { return { retry: true, status: response.status }; });
    }, function (error) {
      return { retry: true, offline: true, message: String(error) };
    }).then(function (result) {
      if (timer) clearTimeout(timer);
      return result;
    });
  }

  // Send one stored item now (if nobody else is sending it) and record the outcome.
  function sendOne(key, csrf) {
    return claim(key).then(function (item) {
      if (!item) return { skipped: true };
      return post(item, csrf).then(function (result) {
        result.item = item;
        if (result.done) return remove(key).then(function () { return result; });
        var patch = result.failed
          ? { status: "failed", error: result.error, message: result.message, fields: result.fields, leaseUntil: 0 }
          : { leaseUntil: 0, lastError: result.message || String(result.status || "") };
        return update(key, patch).then(function () { return result; });
      });
    });
  }

  // Send every pending item, oldest first. Stops at the first network failure.
  function flush(options) {
    options = options || {};
    var summary = { sent: [], failed: [], waiting: 0 };
    return all().then(function (items) {
      var pending = items
        .filter(function (item) { return item.status === "pending"; })
        .sort(function (a, b) { return a.createdAt - b.createdAt; });
      var offline = false;
      return pending.reduce(function (chain, item) {
        return chain.then(function () {
          if (offline) { summary.waiting += 1; return; }
          return sendOne(item.key, options.csrf).then(function (result) {
            if (result.done) summary.sent.push({ key: item.key, requestId: item.requestId, data: result.data });
            else if (result.failed) {
              summary.failed.push({
                key: item.key, requestId: item.requestId, error: result.error, message: result.message,
                fields: result.fields,
              });
            }
            else summary.waiting += 1;
            if (result.offline) offline = true;
          });
        });
      }, Promise.resolve());
    }).then(function () { return summary; });
  }

  // Ask the service worker to send when the connection returns (Background Sync).
  function requestSync() {
    var nav = scope.navigator;
    if (!nav || !nav.serviceWorker || typeof nav.serviceWorker.getRegistration !== "function") {
      return Promise.resolve(false);
    }
    return nav.serviceWorker.getRegistration().then(function (registration) {
      if (!registration || !registration.sync || !registration.active) return false;
      return registration.sync.register(SYNC_TAG).then(function () { return true; });
    }).catch(function () { return false; });
  }

  scope.FieldQueue = {
    SYNC_TAG: SYNC_TAG,
    put: put,
    all: all,
    forRequest: forRequest,
    remove: remove,
    update: update,
    newKey: newKey,
    sendOne: sendOne,
    flush: flush,
    requestSync: requestSync,
  };
})(self);
