/*
 * Zayavka — field mode on the worker's phone: the QR scanner, the photo of the signed work
 * order (shrunk on the phone), and completing the job even without a connection.
 * Needs offline-queue.js. Every message shown comes from data-msg-* attributes (translated).
 */
(function () {
  "use strict";

  var Q = window.FieldQueue;
  var JOB_PATH = /\/jobs\/([A-Za-z0-9_-]{16,64})\/?$/;
  var LONGEST_SIDE = 2000;
  var JPEG_QUALITY = 0.85;
  var DETECTOR_LOADER = "/static/vendor/barcode-detector-loader.js";

  function csrfToken() {
    var input = document.querySelector('input[name="_csrf_token"]');
    if (input && input.value) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { resolve(); };
      script.onerror = function () { script.remove(); reject(new Error(src)); };
      document.head.appendChild(script);
    });
  }

  /* ---------------------------------------------------------------- scanner */

  var scanner = document.getElementById("scanner");
  var video = document.getElementById("scanner-video");
  var scanStatus = document.getElementById("scanner-status");
  var stream = null;
  var scanning = false;

  function scanSay(name) {
    scanStatus.textContent = scanner.dataset["msg" + name] || "";
  }

  // The native detector where the browser has one (Chrome on Android); otherwise the vendored
  // polyfill with its wasm from our server — fetched only now, never on page load.
  function detectorClass() {
    var native = window.BarcodeDetector;
    var check = typeof native === "function" && typeof native.getSupportedFormats === "function"
      ? native.getSupportedFormats().then(function (formats) {
          return formats.indexOf("qr_code") !== -1;
        }, function () { return false; })
      : Promise.resolve(false);
    return check.then(function (ok) {
      if (ok) return native;
      scanSay("Loading");
      var loader = window.loadBarcodeDetector ? Promise.resolve() : loadScript(DETECTOR_LOADER);
      return loader.then(function () { return window.loadBarcodeDetector({ formats: ["qr_code"] }); });
    });
  }

  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    if (video) video.srcObject = null;
  }

  function closeScanner() {
    stopCamera();
    if (scanner.open && typeof scanner.close === "function") scanner.close();
    else scanner.removeAttribute("open");
  }

  function jobPathOf(text) {
    try {
      var match = JOB_PATH.exec(new URL(String(text).trim(), location.href).pathname);
      return match ? "/jobs/" + match[1] : null;
    } catch (e) {
      return null;
    }
  }

  function scanLoop(detector) {
    if (!scanning) return;
    if (video.readyState < 2) { setTimeout(function () { scanLoop(detector); }, 150); return; }
    detector.detect(video).then(function (codes) {
      if (!scanning) return;
      for (var i = 0; i < codes.length; i++) {
        var path = jobPathOf(codes[i].rawValue);
        if (path) {
          scanSay("Found");
          stopCamera();
          // Only the path: the job opens on this server whatever host the sheet printed.
          location.assign(path);
          return;
        }
      }
      if (codes.length) scanSay("Foreign");
      setTimeout(function () { scanLoop(detector); }, 200);
    }, function () {
      setTimeout(function () { scanLoop(detector); }, 400);
    });
  }

  function openScanner() {
    if (typeof scanner.showModal === "function") scanner.showModal();
    else scanner.setAttribute("open", "");
    scanSay("Starting");
    var detecting = detectorClass();
    detecting.catch(function () {});
    navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    }).then(function (media) {
      stream = media;
      video.srcObject = media;
      return video.play().catch(function () {});
    }, function (error) {
      scanSay("NoCamera");
      throw error;
    }).then(function () {
      return detecting.then(function (Detector) {
        if (!stream) return;
        scanning = true;
        scanSay("Looking");
        scanLoop(new Detector({ formats: ["qr_code"] }));
      }, function (error) {
        scanSay("NoDetector");
        stopCamera();
        throw error;
      });
    }).catch(function () {});
  }

  if (scanner && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    document.querySelectorAll("[data-scan]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", openScanner);
    });
    scanner.querySelector("[data-scan-close]").addEventListener("click", closeScanner);
    scanner.addEventListener("close", stopCamera);
  }

  /* ---------------------------------------------------------------- photo */

  function decode(file) {
    function viaImage() {
      return new Promise(function (resolve, reject) {
        var url = URL.createObjectURL(file);
        var image = new Image();
        image.onload = function () { URL.revokeObjectURL(url); resolve(image); };
        image.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
        image.src = url;
      });
    }
    if (typeof window.createImageBitmap !== "function") return viaImage();
    return createImageBitmap(file, { imageOrientation: "from-image" }).catch(viaImage);
  }

  // Longest side about 2,000 px, JPEG: a 10 MB camera photo becomes a few hundred KB, which
  // one bar of signal can carry, and the QR code stays readable for the server.
  function shrink(file) {
    return decode(file).then(function (picture) {
      var width = picture.naturalWidth || picture.width;
      var height = picture.naturalHeight || picture.height;
      var scale = Math.min(1, LONGEST_SIDE / Math.max(width, height));
      if (scale === 1 && file.type === "image/jpeg") {
        if (picture.close) picture.close();
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      canvas.getContext("2d").drawImage(picture, 0, 0, canvas.width, canvas.height);
      if (picture.close) picture.close();
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob) resolve(blob); else reject(new Error("encode"));
        }, "image/jpeg", JPEG_QUALITY);
      });
    }).catch(function () {
      return file; // the server re-encodes anything Pillow reads
    });
  }

  /* ---------------------------------------------------------------- job page */

  var page = document.querySelector(".field-job-page");
  var requestId = page ? Number(page.dataset.requestId) : null;
  var form = document.getElementById("complete-form");
  var pendingPanel = document.getElementById("field-pending");
  var pendingBadge = document.getElementById("field-pending-badge");
  var closeSection = document.getElementById("field-close");
  var preparing = null;

  function formSay(text) {
    var status = document.getElementById("field-status");
    if (status) status.textContent = text || "";
  }

  function showPhoto(img, blob) {
    if (!img || !blob) return;
    if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
    img.dataset.url = URL.createObjectURL(blob);
    // A picture this browser cannot draw (HEIC on some phones) still goes to the server,
    // which reads more formats; a broken-image icon would only worry the worker.
    img.onerror = function () { img.hidden = true; };
    img.src = img.dataset.url;
    img.hidden = false;
  }

  function hidePhoto(img) {
    if (!img) return;
    if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
    delete img.dataset.url;
    img.removeAttribute("src");
    img.hidden = true;
  }

  // The two steps: ① photograph, ② send. Sending waits for a photo.
  function photoStep(hasPhoto) {
    if (!form) return;
    var submit = form.querySelector("button[type=submit]");
    var label = form.querySelector(".field-photo-button");
    var hint = document.getElementById("field-send-hint");
    var step = document.getElementById("field-step-photo");
    if (!label.dataset.first) label.dataset.first = label.textContent;
    submit.disabled = !hasPhoto || busy;
    if (hint) hint.hidden = hasPhoto;
    if (step) step.classList.toggle("is-done", hasPhoto);
    // Once there is a photo, sending is the one primary action left.
    label.classList.toggle("btn-primary", !hasPhoto);
    label.classList.toggle("btn-secondary", hasPhoto);
    label.textContent = hasPhoto ? form.dataset.msgRetake : label.dataset.first;
  }

  // The server could not use the photo (not a picture, damaged, too small): nothing is
  // waiting to be sent; the worker takes it again.
  function photoRefused(item) {
    return item.status === "failed" && (item.fields || []).indexOf("photo") !== -1;
  }

  function showRefused(item) {
    var box = document.getElementById("field-photo-refused");
    if (!form || !box) return;
    if (pendingPanel) pendingPanel.hidden = true;
    if (pendingBadge) pendingBadge.hidden = true;
    if (closeSection) closeSection.hidden = false;
    box.querySelector("[data-reason]").textContent = item.message || "";
    box.hidden = false;
    hidePhoto(document.getElementById("field-preview"));
    document.getElementById("field-photo").value = "";
    preparing = null;
    busy = false;
    photoStep(false);
    formSay("");
  }

  // Taking the photo again replaces the refused one: it could never be sent.
  function dropRefused() {
    return Q.forRequest(requestId).then(function (items) {
      return Promise.all(items.filter(photoRefused).map(function (i) { return Q.remove(i.key); }));
    }).catch(function () {});
  }

  // The request's version as this page shows it; a completion carries it to the server.
  function seenVersion() {
    var input = form && form.querySelector('input[name="version"]');
    return input ? input.value : "";
  }

  // Refused because the request changed while it waited (or stored by a page that sent no
  // version): once the worker has the job as it is now, the same photo may go again.
  function resendable(item) {
    return !!form && item.status === "failed" && (item.error === "stale" || !item.version);
  }

  // A completion stored on the phone: the job shows «Ожидает отправки» until the server has it.
  function showQueued(item) {
    if (!pendingPanel) return;
    pendingPanel.hidden = false;
    if (pendingBadge) pendingBadge.hidden = item.status !== "pending";
    pendingPanel.querySelector(".pending-sync").hidden = item.status !== "pending";
    var text = document.getElementById("field-pending-text");
    var discard = pendingPanel.querySelector("[data-discard]");
    var resend = pendingPanel.querySelector("[data-resend]");
    resend.hidden = !resendable(item);
    if (item.status === "failed") {
      text.textContent = item.error === "stale"
        ? pendingPanel.dataset.msgStale
        : (form ? form.dataset.msgFailed + " " : "") + (item.message || "");
      resend.onclick = function () {
        resend.disabled = true;
        sendAgain(item);
      };
      discard.hidden = false;
      discard.onclick = function () {
        Q.remove(item.key).then(function () { location.reload(); });
      };
      if (closeSection) closeSection.hidden = false;
    } else {
      discard.hidden = true;
      if (closeSection) closeSection.hidden = true;
    }
    showPhoto(document.getElementById("field-pending-photo"), item.photo);
  }

  function refreshJobPage() {
    if (!Q || !requestId) return Promise.resolve();
    return Q.forRequest(requestId).then(function (items) {
      var pending = items.filter(function (i) { return i.status === "pending"; })[0];
      var failed = items.filter(function (i) { return i.status === "failed"; })[0];
      if (pending || failed) {
        if (!pending && photoRefused(failed)) showRefused(failed);
        else showQueued(pending || failed);
      }
    }).catch(function () {});
  }

  var busy = false; // a double tap must not make two completions with two keys

  // Send a stored completion now, or leave it waiting for the connection.
  function send(item) {
    var submit = form.querySelector("button[type=submit]");
    if (!navigator.onLine) {
      showQueued(item);
      formSay(form.dataset.msgPending);
      return Q.requestSync();
    }
    formSay(form.dataset.msgSending);
    return Q.sendOne(item.key, csrfToken()).then(function (result) {
      if (result.done) { location.assign(result.data.url); return; }
      if (result.failed && result.error === "stale") {
        // The job as it is now; the stored photo waits there to be sent again.
        location.reload();
        return;
      }
      if (result.failed) {
        item.status = "failed";
        item.error = result.error;
        item.message = result.message;
        item.fields = result.fields;
        if (photoRefused(item)) { showRefused(item); return; }
        showQueued(item);
        formSay("");
        submit.disabled = false;
        busy = false;
        return;
      }
      item.status = "pending";
      showQueued(item);
      formSay(form.dataset.msgPending);
      return Q.requestSync();
    });
  }

  function sendAgain(item) {
    var patch = { status: "pending", version: seenVersion(), error: "", message: "" };
    return Q.update(item.key, patch).then(function (stored) {
      if (stored) return send(stored);
    }).catch(function () { location.reload(); });
  }

  function complete() {
    var submit = form.querySelector("button[type=submit]");
    var photoPromise = preparing || Promise.resolve(null);
    if (busy) return;
    busy = true;
    photoPromise.then(function (photo) {
      if (!photo) { formSay(form.dataset.msgNoPhoto); busy = false; return; }
      submit.disabled = true;
      var item = {
        key: Q.newKey(),
        requestId: requestId,
        url: form.action,
        csrf: csrfToken(),
        version: seenVersion(),
        photo: photo,
        title: form.dataset.title,
        createdAt: Date.now(),
        status: "pending",
        leaseUntil: 0,
      };
      // Stored before the first byte is sent, so neither a lost connection nor a closed
      // tab loses the photo.
      return dropRefused().then(function () { return Q.put(item); }).then(function () {
        return send(item);
      }, function () {
        formSay(form.dataset.msgNoStorage);
        submit.disabled = false;
        busy = false;
      });
    });
  }

  if (form && Q) {
    var input = document.getElementById("field-photo");
    photoStep(false);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      document.getElementById("field-photo-refused").hidden = true;
      formSay(form.dataset.msgPreparing);
      var shrinking = preparing = shrink(file);
      shrinking.then(function (blob) {
        if (preparing !== shrinking) return; // a newer photo was taken meanwhile
        showPhoto(document.getElementById("field-preview"), blob);
        photoStep(true);
        formSay("");
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // app.js would disable the button for a page load that is not coming.
      event.stopPropagation();
      complete();
    });
  }

  /* ---------------------------------------------------------------- list page */

  function refreshList() {
    var banner = document.getElementById("field-queue");
    if (!Q || !banner) return Promise.resolve();
    return Q.all().then(function (items) {
      var pending = items.filter(function (i) { return i.status === "pending"; });
      document.querySelectorAll("[data-pending-for]").forEach(function (badge) {
        badge.hidden = !pending.some(function (i) { return String(i.requestId) === badge.dataset.pendingFor; });
      });
      banner.hidden = pending.length === 0;
      banner.textContent = banner.dataset.msgPending.replace("{n}", String(pending.length));
    }).catch(function () {});
  }

  // Live updates (live.js) redraw rows of the list: a redrawn row keeps the «Ожидает
  // отправки» mark it had (no flicker), then the queue has the last word.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var fragment = event.detail && event.detail.fragment;
    if (!fragment || !fragment.querySelectorAll) return;
    fragment.querySelectorAll("[data-pending-for]").forEach(function (badge) {
      var shown = document.querySelector('[data-pending-for="' + badge.dataset.pendingFor + '"]');
      if (shown) badge.hidden = shown.hidden;
    });
  });
  document.addEventListener("htmx:wsAfterMessage", function () { refreshList(); });

  /* ---------------------------------------------------------------- sending later */

  function afterSent(sent, failed) {
    var staleHere = (failed || []).some(function (f) {
      return f.requestId === requestId && f.error === "stale";
    });
    if (requestId && staleHere) {
      location.reload(); // the job as it is now, beside the photo that waits to go again
      return;
    }
    if (!sent.length) return;
    // The server's page is the truth now (state, QR result): show it.
    if (!requestId || sent.some(function (s) { return s.requestId === requestId; })) {
      location.reload();
    }
  }

  var flushing = false;
  function flush() {
    if (!Q || flushing || !navigator.onLine) return;
    flushing = true;
    Q.flush({ csrf: csrfToken() }).then(function (summary) {
      flushing = false;
      afterSent(summary.sent, summary.failed);
      return Promise.all([refreshList(), refreshJobPage()]);
    }, function () { flushing = false; });
  }

  if (Q) {
    refreshList();
    refreshJobPage();
    // Background Sync where the browser has it; otherwise (and as well) on page open, when
    // the browser says it is online again, and now and then while something waits.
    flush();
    window.addEventListener("online", flush);
    setInterval(function () {
      Q.all().then(function (items) {
        if (items.some(function (i) { return i.status === "pending"; })) flush();
      }).catch(function () {});
    }, 30000);
    if (navigator.serviceWorker) {
      navigator.serviceWorker.addEventListener("message", function (event) {
        var data = event.data || {};
        if (data.type !== "field-sync") return;
        afterSent(data.sent || [], data.failed || []);
        refreshList();
        refreshJobPage();
      });
    }
  }
})();
