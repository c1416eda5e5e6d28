/* Earshot: Web Audio helpers shared by the listener pages (listener.js, headphones.js and any
 * other page that plays stimuli). Loaded before them; exposes window.earshotWebAudio:
 *
 * - createContext(): an AudioContext (null without Web Audio);
 * - fetchBytes(url): the bytes of an audio URL, through the browser's HTTP cache (the server
 *   sends per-listener audio as `private, max-age, immutable`, so a reload of the same trial
 *   does not download it again);
 * - decode(ctx, bytes): an AudioBuffer;
 * - load(ctx, url): fetch + decode, remembered per URL for the life of the document, so audio
 *   prefetched and decoded ahead (the next trial, while this one is answered) is ready at once;
 * - store(key): a small JSON record in sessionStorage (survives a reload of the tab, not the
 *   tab), with get(), set(value) and clear(); silent where storage is unavailable;
 * - clock(): milliseconds on a clock that goes on across reloads of the tab (wall-clock
 *   based, high resolution), for logs that must survive a reload;
 * - formatTime(seconds): "m:ss" for time readouts.
 *
 * Nothing here knows about A and B.
 */
(function () {
  "use strict";

  function createContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return null;
    }
    try {
      // Let iOS play through the silent switch (Safari 16.4+); harmless elsewhere.
      if (navigator.audioSession) {
        navigator.audioSession.type = "playback";
      }
    } catch (ignored) {
      /* not supported */
    }
    return new Context();
  }

  function fetchBytes(url) {
    // The default cache mode: the private, immutable audio is taken from the HTTP cache.
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.arrayBuffer();
    });
  }

  function decode(ctx, bytes) {
    // Older Safari only has the callback form; newer browsers return a promise as well.
    return new Promise(function (resolve, reject) {
      var promise = ctx.decodeAudioData(bytes, resolve, function (error) {
        reject(error || new Error("decode failed"));
      });
      if (promise && promise.then) {
        promise.then(resolve, reject);
      }
    });
  }

  var loaded = {};

  function load(ctx, url) {
    if (!loaded[url]) {
      loaded[url] = fetchBytes(url).then(function (bytes) {
        return decode(ctx, bytes);
      });
      loaded[url].catch(function () {
        delete loaded[url]; // a failed load may be tried again
      });
    }
    return loaded[url];
  }

  function forget(url) {
    delete loaded[url];
  }

  function store(key) {
    var storage = null;
    try {
      storage = window.sessionStorage;
    } catch (ignored) {
      /* blocked by the browser's settings */
    }
    return {
      get: function () {
        try {
          var raw = storage && storage.getItem(key);
          return raw ? JSON.parse(raw) : null;
        } catch (ignored) {
          return null;
        }
      },
      set: function (value) {
        try {
          if (storage) {
            storage.setItem(key, JSON.stringify(value));
          }
        } catch (ignored) {
          /* full or blocked: the record is only a convenience */
        }
      },
      clear: function () {
        try {
          if (storage) {
            storage.removeItem(key);
          }
        } catch (ignored) {
          /* blocked */
        }
      },
    };
  }

  var origin = performance.timeOrigin || Date.now() - performance.now();

  function clock() {
    return origin + performance.now();
  }

  function formatTime(seconds) {
    var whole = Math.max(0, Math.floor(seconds + 1e-6));
    var rest = whole % 60;
    return Math.floor(whole / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  window.earshotWebAudio = {
    createContext: createContext,
    fetchBytes: fetchBytes,
    decode: decode,
    load: load,
    forget: forget,
    store: store,
    clock: clock,
    formatTime: formatTime,
  };
})();
