/* Zayavka service worker: served at /sw.js (scope "/") by server/routes/pwa.py.
 *
 * - a versioned precache of the app shell (CSS, htmx, icons, the offline page);
 * - pages: network first; without a network, the last copy of that page or the offline page;
 * - htmx fragments (HX-Request) are never cached and never answered from a cache;
 * - pages of a signed-in person are dropped when they sign out;
 * - push: shows the notification; a click focuses or opens the request's page.
 *
 * The server fills in VERSION (a hash of this file, of the shell and of the language), the SHELL
 * list and MESSAGES, the worker's own texts from the catalogue in the language of the person
 * whose browser fetches it. Any change to them (a language switched in the profile included)
 * installs a new worker that throws the old caches away. Notifications carry their texts from
 * the server, in the recipient's language.
 */
"use strict";

const VERSION = "dev";
// <shell>
const SHELL = ["/offline", "/manifest.webmanifest", "/static/css/app.css", "/static/vendor/htmx.min.js"];
// </shell>
// <messages>
const MESSAGES = {};
// </messages>
const SHELL_CACHE = "zayavka-shell-" + VERSION;
const PAGES_CACHE = "zayavka-pages-" + VERSION;
const OWN_CACHES = /^zayavka-(shell|pages)-/;
const OFFLINE_URL = "/offline";
const MAX_PAGES = 40;
const SHELL_PATHS = new Set(SHELL);

// Field mode (issue 5) adds offline completion of work orders when it is installed.
try {
  importScripts("/sw-field-sync.js");
} catch (error) {
  // Not installed, or not reachable right now: everything else still works.
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // "reload": fresh copies, not whatever the HTTP cache holds. "omit": the shell is the
      // same for everyone, and a response racing a sign-in must not overwrite its cookie.
      await cache.addAll(
        SHELL.map((url) => new Request(url, { cache: "reload", credentials: "omit" }))
      );
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => OWN_CACHES.test(name) && name !== SHELL_CACHE && name !== PAGES_CACHE)
          .map((name) => caches.delete(name))
      );
      if (self.registration.navigationPreload) {
        await self.registration.navigationPreload.enable();
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.respondWith(signOutThrough(request));
    return;
  }
  if (request.method !== "GET") return;
  // A fragment shares its URL with a page: never store it, never answer it from a store.
  if (request.headers.get("HX-Request")) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
    return;
  }
  if (SHELL_PATHS.has(url.pathname) && !url.search) {
    event.respondWith(shellFirst(request));
  }
});

async function shellFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE });
  return cached || fetch(request);
}

function mayKeep(response) {
  if (!response || !response.ok || response.type !== "basic") return false;
  const control = response.headers.get("Cache-Control") || "";
  const type = response.headers.get("Content-Type") || "";
  return !/no-store|private/.test(control) && type.startsWith("text/html");
}

async function networkFirst(event) {
  const request = event.request;
  try {
    const response = (await event.preloadResponse) || (await fetch(request));
    if (mayKeep(response)) {
      const copy = response.clone();
      event.waitUntil(
        caches
          .open(PAGES_CACHE)
          .then((cache) => cache.put(request.url, copy))
          .then(trimPages)
          .catch(() => {})
      );
    }
    return response;
  } catch (error) {
    const saved = await caches.match(request.url, { cacheName: PAGES_CACHE, ignoreVary: true });
    if (saved) return markedAsSaved(saved);
    const offline = await caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE });
    return (
      offline ||
      new Response(MESSAGES.offline || "", {
        status: 503,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      })
    );
  }
}

// A saved copy says so, so nobody mistakes an old status for the current one.
async function markedAsSaved(response) {
  const html = await response.text();
  const note =
    '<div class="flash flash-info" role="status" data-saved-copy>' +
    (MESSAGES.savedCopy || "") +
    "</div>";
  const marked = html.replace(/(<main\b[^>]*>)/, "$1" + note);
  return new Response(marked, {
    status: 200,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

async function trimPages() {
  const cache = await caches.open(PAGES_CACHE);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map((k) => cache.delete(k)));
}

// -------------------------------------------------------------------------------------------
// Signing out: nothing of this person stays on the device.

async function forgetPages() {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith("zayavka-pages-")).map((n) => caches.delete(n)));
}

function within(ms, promise) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
}

async function forgetPerson(csrfToken) {
  await forgetPages();
  const subscription = await self.registration.pushManager.getSubscription();
  if (!subscription) return;
  if (csrfToken) {
    // Tell the server first, while the session still exists; never hold the sign-out long.
    await within(
      3000,
      fetch("/push/unsubscribe", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "x-csrftoken": csrfToken },
        body: JSON.stringify({ endpoint: subscription.endpoint }),
      }).catch(() => {})
    );
  }
  await subscription.unsubscribe().catch(() => {});
}

async function signOutThrough(request) {
  try {
    const form = await request.clone().formData();
    await within(5000, forgetPerson(form.get("_csrf_token")));
  } catch (error) {
    await forgetPages().catch(() => {});
  }
  return fetch(request);
}

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "logout") event.waitUntil(forgetPerson(event.data.csrfToken));
  else if (type === "forget-pages") event.waitUntil(forgetPages());
});

// -------------------------------------------------------------------------------------------
// Push notifications

self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  const title = data.title || MESSAGES.title || "";
  const options = {
    body: data.body || "",
    icon: data.icon || "/static/icons/icon-192.png",
    badge: data.badge || "/static/icons/badge-72.png",
    lang: data.lang || MESSAGES.lang || "ru",
    data: { url: data.url || "/", requestId: data.request_id || null },
    timestamp: data.ts || Date.now(),
  };
  if (data.tag) {
    // One notification per request: news replaces the older one, and still rings.
    options.tag = data.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/", self.location.origin);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).pathname === target.pathname) return client.focus();
      }
      for (const client of windows) {
        if (new URL(client.url).origin === target.origin && "navigate" in client) {
          try {
            await client.focus();
            return await client.navigate(target.href);
          } catch (error) {
            // Not controlled by this worker: open a new window instead.
          }
        }
      }
      return self.clients.openWindow(target.href);
    })()
  );
});
