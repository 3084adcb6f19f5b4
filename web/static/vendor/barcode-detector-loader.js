/*!
 * Zayavka — lazy BarcodeDetector loader (AGPL-3.0-or-later, part of Zayavka).
 *
 * window.loadBarcodeDetector(options?) -> Promise<BarcodeDetector class>
 *
 *   options.formats        formats the caller needs (default ["qr_code"]); the native
 *                          BarcodeDetector is used only if it supports all of them
 *   options.forcePolyfill  true: skip the native detector (tests)
 *
 * If the browser has no usable native BarcodeDetector (Chromium on Linux, Firefox,
 * iOS Safari), this loads the vendored polyfill (barcode-detector IIFE build, global
 * `BarcodeDetectionAPI`) and its zxing reader .wasm — both from this directory, never a
 * CDN — and resolves once the WebAssembly module is compiled, so a missing/blocked
 * .wasm rejects here instead of at detect() time. A failed load can be retried.
 *
 * Load this file as a classic script (not type="module"): it locates its sibling files
 * from its own URL (document.currentScript), falling back to /static/vendor/.
 * After resolution, window.loadBarcodeDetector.source is "native" or "polyfill".
 * With a Content-Security-Policy, the polyfill needs script-src 'wasm-unsafe-eval'.
 */
(function () {
  "use strict";

  var POLYFILL_FILE = "barcode-detector.iife.js"; // barcode-detector 3.2.2 dist/iife/ponyfill.js
  var WASM_FILE = "zxing_reader.wasm"; // zxing-wasm 3.1.3 dist/reader/zxing_reader.wasm

  var current = document.currentScript;
  var BASE = current && current.src ? new URL(".", current.src).href : "/static/vendor/";

  var polyfillPromise = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = function () { resolve(); };
      s.onerror = function () {
        s.remove();
        reject(new Error("Не удалось загрузить " + src));
      };
      document.head.appendChild(s);
    });
  }

  async function nativeSupports(formats) {
    if (typeof window.BarcodeDetector !== "function") return false;
    try {
      var supported = await window.BarcodeDetector.getSupportedFormats();
      return formats.every(function (f) { return supported.indexOf(f) !== -1; });
    } catch (e) {
      return false;
    }
  }

  function loadPolyfill() {
    if (polyfillPromise) return polyfillPromise;
    var wasmUrl = new URL(WASM_FILE, BASE).href;
    // One overrides object for the page's lifetime: zxing-wasm compares overrides
    // shallowly and reuses the compiled module while they are equal.
    var overrides = {
      locateFile: function (path, prefix) {
        return /\.wasm$/.test(path) ? wasmUrl : prefix + path;
      },
    };
    polyfillPromise = (window.BarcodeDetectionAPI
      ? Promise.resolve()
      : loadScript(new URL(POLYFILL_FILE, BASE).href)
    ).then(function () {
      var api = window.BarcodeDetectionAPI;
      if (!api || typeof api.BarcodeDetector !== "function") {
        throw new Error("Полифил BarcodeDetector не загрузился");
      }
      // Set the wasm location and start fetching/compiling it now.
      return Promise.resolve(api.prepareZXingModule({ overrides: overrides, fireImmediately: true }))
        .then(function () { return api.BarcodeDetector; })
        .catch(function (err) {
          api.purgeZXingModule(); // forget the failed instance so a retry fetches again
          throw err;
        });
    });
    polyfillPromise.catch(function () { polyfillPromise = null; });
    return polyfillPromise;
  }

  async function loadBarcodeDetector(options) {
    options = options || {};
    var formats = options.formats || ["qr_code"];
    if (!options.forcePolyfill && (await nativeSupports(formats))) {
      loadBarcodeDetector.source = "native";
      return window.BarcodeDetector;
    }
    var Detector = await loadPolyfill();
    loadBarcodeDetector.source = "polyfill";
    return Detector;
  }

  loadBarcodeDetector.source = null;
  loadBarcodeDetector.wasmUrl = new URL(WASM_FILE, BASE).href;
  window.loadBarcodeDetector = loadBarcodeDetector;
})();
