/* Earshot: Web Audio helpers shared by the trial page (listener.js) and the headphone check
 * (headphones.js). Loaded before either; exposes window.earshotWebAudio. */
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
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
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

  window.earshotWebAudio = { createContext: createContext, fetchBytes: fetchBytes, decode: decode };
})();
