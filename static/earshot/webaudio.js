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
 * - formatTime(seconds): "m:ss" for time readouts;
 * - syncClock(options): the players' one clock for N excerpts ("sides"), below;
 * - heardBySide(events, loopS, sides), intervalsUnion, intervalsIntersection,
 *   intervalsLength: what a listening log says was heard (the server's rule,
 *   evaluation/listening_log.py, line for line);
 * - postAnswer(url, form, answer): a trial's answer sent, a promise of {status, ok, payload};
 *   a lost connection or a 5xx is sent again by itself (the server stores an answer once).
 *
 * Nothing here knows about A and B: the A/B page (listener.js) and the single-track and pool
 * pages (pool.js) name their sides.
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

  /* ---------- one clock for N excerpts ---------- */

  // A 5 ms crossfade on switch: too short to hear as a fade, long enough to avoid a click.
  var SWITCH_RAMP_S = 0.005;
  // All sources are scheduled slightly ahead so they start on exactly the same sample.
  var START_LEAD_S = 0.04;

  /* syncClock({ctx, sides, maxEvents, onEvent, onInterrupt}): the N excerpts of a trial
   * ("sides", e.g. ["a", "b"] or a pool's ["a", "b", "c"]) started on one instant of the audio
   * clock and offset into the excerpt, each through its own GainNode; switching only moves the
   * gains, so it is instant and keeps the moment in the music. They loop inside `region`
   * ([from, to] seconds; null: the whole excerpt) until stopped.
   *
   * It keeps the trial's listening log (evaluation/listening_log.py): every play, pause,
   * switch, seek and loop as {t: ms since `origin`, type, side: the audible side, pos: s}.
   * `onEvent(event)` is called after each event is logged; `onInterrupt()` after the context
   * stopped running while playing (the clock has paused: wall time would go on counting while a
   * stopped device plays nothing).
   *
   * The fields (ctx, loopLength, region, playing, active, startOffset, log, origin) are the
   * page's to read; it may set region, active, startOffset, log and origin while nothing plays
   * (a restored log), then call setGains(). Without Web Audio `ctx` is null and nothing plays.
   */
  function syncClock(options) {
    var ctx = options.ctx || createContext();
    var sides = options.sides;
    var maxEvents = options.maxEvents;
    var gains = {};
    var buffers = {};
    var sources = null;
    var startedAt = 0; // audio-clock time at which startOffset plays
    var wasRunning = false;
    var self = {
      ctx: ctx,
      sides: sides,
      loopLength: 0,
      region: null,
      playing: false,
      active: sides[0],
      startOffset: 0, // seconds into the excerpt
      log: [],
      origin: clock(),
    };

    if (!ctx) {
      return self; // nothing can play: the page says so
    }
    ctx.onstatechange = function () {
      if (ctx.state === "running") {
        wasRunning = true;
      } else if (wasRunning && self.playing) {
        wasRunning = false;
        self.pause();
        if (options.onInterrupt) {
          options.onInterrupt();
        }
      }
    };
    sides.forEach(function (side) {
      gains[side] = ctx.createGain();
      gains[side].gain.value = side === self.active ? 1 : 0;
      gains[side].connect(ctx.destination);
    });

    // The sides' buffers: decoded from `urls` (remembered per URL, see load), or `decoded`
    // already (an array in the order of the sides). The loop is the shortest excerpt.
    self.load = function (urls, decoded) {
      var all = decoded
        ? Promise.resolve(decoded)
        : Promise.all(
            urls.map(function (url) {
              return load(ctx, url);
            })
          );
      return all.then(function (list) {
        sides.forEach(function (side, index) {
          buffers[side] = list[index];
        });
        self.loopLength = Math.min.apply(
          null,
          list.map(function (buffer) {
            return buffer.duration;
          })
        );
        return list;
      });
    };

    self.bounds = function () {
      return self.region || [0, self.loopLength];
    };

    // Where playback from `start` is after `elapsed` seconds, wrapping inside the region.
    self.advance = function (start, elapsed) {
      var low = self.bounds()[0];
      var high = self.bounds()[1];
      var at = start + elapsed;
      return at < high ? at : low + ((at - high) % (high - low));
    };

    self.position = function () {
      if (!self.playing) {
        return self.startOffset;
      }
      return self.advance(self.startOffset, Math.max(0, ctx.currentTime - startedAt));
    };

    function startSources(offset) {
      var when = ctx.currentTime + START_LEAD_S;
      sources = {};
      sides.forEach(function (side) {
        var node = ctx.createBufferSource();
        node.buffer = buffers[side];
        node.loop = true;
        node.loopStart = self.bounds()[0];
        node.loopEnd = self.bounds()[1];
        node.connect(gains[side]);
        node.start(when, offset);
        sources[side] = node;
      });
      startedAt = when;
      self.startOffset = offset;
      self.playing = true;
    }

    function stopSources() {
      if (!sources) {
        return;
      }
      self.startOffset = self.position();
      sides.forEach(function (side) {
        try {
          sources[side].stop();
        } catch (ignored) {
          /* already stopped */
        }
        sources[side].disconnect();
      });
      sources = null;
      self.playing = false;
    }

    /* the listening log */

    function now() {
      // Never before the last event: the server refuses a log whose time goes backwards.
      var t = Math.round((clock() - self.origin) * 10) / 10;
      var last = self.log[self.log.length - 1];
      return Math.max(t, last ? last.t : 0);
    }

    self.eventNow = function (type) {
      var event = {
        t: now(),
        type: type,
        side: self.active,
        pos: Math.round(self.position() * 10000) / 10000,
      };
      if (type === "loop") {
        event.from = self.bounds()[0];
        event.to = self.bounds()[1];
      }
      return event;
    };

    self.logEvent = function (type) {
      if (self.log.length >= maxEvents - 1) {
        return; // keep one place for the submit event
      }
      var event = self.eventNow(type);
      self.log.push(event);
      if (options.onEvent) {
        options.onEvent(event);
      }
    };

    // The log so far, closed by an event of `type` now (what the server would see if the
    // answer went now).
    self.logUntilNow = function (type) {
      return self.log.concat([self.eventNow(type)]);
    };

    /* the controls: each logs its event */

    // Start playing where playback stands. resume() is called inside the user's gesture, as
    // autoplay policies require; a promise that fails when the browser refuses (the clock has
    // stopped again and logged the pause).
    self.play = function () {
      var resumed = ctx.state === "running" ? Promise.resolve() : ctx.resume();
      startSources(self.startOffset);
      self.logEvent("play");
      return resumed.then(
        function () {},
        function (error) {
          stopSources();
          self.logEvent("pause");
          throw error || new Error("playback refused");
        }
      );
    };

    self.pause = function () {
      if (!self.playing) {
        return false;
      }
      stopSources();
      self.logEvent("pause");
      return true;
    };

    // Make `side` the audible one; false when it is already.
    self.select = function (side) {
      if (side === self.active || sides.indexOf(side) < 0) {
        return false;
      }
      self.active = side;
      self.logEvent("switch");
      var at = ctx.currentTime;
      sides.forEach(function (each) {
        var gain = gains[each].gain;
        gain.cancelScheduledValues(at);
        gain.setValueAtTime(gain.value, at);
        gain.linearRampToValueAtTime(each === side ? 1 : 0, at + SWITCH_RAMP_S);
      });
      return true;
    };

    // Playback to `offset` seconds (playing on if it was), logging nothing: the caller logs.
    self.moveTo = function (offset) {
      if (self.playing) {
        stopSources();
        startSources(offset);
      } else {
        self.startOffset = offset;
      }
    };

    // Loop inside `region` (null: the whole excerpt) from `offset` on; the caller logs.
    self.setRegion = function (region, offset) {
      if (self.playing) {
        stopSources();
        self.region = region;
        startSources(offset);
      } else {
        self.region = region;
        self.startOffset = offset;
      }
    };

    // The gains after `active` was set directly (a restored log).
    self.setGains = function () {
      sides.forEach(function (side) {
        gains[side].gain.value = side === self.active ? 1 : 0;
      });
    };

    // Silence and let go of the audio graph (the context stays, for the next page).
    self.destroy = function () {
      stopSources();
      sides.forEach(function (side) {
        gains[side].disconnect();
      });
    };

    return self;
  }

  /* ---------- what a listening log says was heard (evaluation/listening_log.py) ---------- */

  // segment_positions: the positions a stretch of playback covers, wrapping in [low, high].
  function segmentPositions(start, duration, low, high) {
    if (duration >= high - low) {
      return [[low, high]];
    }
    start = Math.min(Math.max(start, low), high);
    var end = start + duration;
    if (end <= high) {
      return [[start, end]];
    }
    return [
      [start, high],
      [low, low + end - high],
    ];
  }

  function intervalsUnion(intervals) {
    var sorted = intervals.slice().sort(function (x, y) {
      return x[0] - y[0] || x[1] - y[1];
    });
    var merged = [];
    sorted.forEach(function (interval) {
      if (interval[1] <= interval[0]) {
        return;
      }
      var last = merged[merged.length - 1];
      if (last && interval[0] <= last[1]) {
        last[1] = Math.max(last[1], interval[1]);
      } else {
        merged.push([interval[0], interval[1]]);
      }
    });
    return merged;
  }

  function intervalsIntersection(first, second) {
    var both = [];
    var i = 0;
    var j = 0;
    while (i < first.length && j < second.length) {
      var start = Math.max(first[i][0], second[j][0]);
      var end = Math.min(first[i][1], second[j][1]);
      if (end > start) {
        both.push([start, end]);
      }
      if (first[i][1] < second[j][1]) {
        i += 1;
      } else {
        j += 1;
      }
    }
    return both;
  }

  function intervalsLength(intervals) {
    var total = 0;
    intervals.forEach(function (interval) {
      total += interval[1] - interval[0];
    });
    return total;
  }

  // heard_by_side (and summarize's segments): per side, the seconds played and the distinct
  // passages heard (merged intervals), and the number of switches.
  function heardBySide(events, loopS, sides) {
    var played = {};
    var positions = {};
    sides.forEach(function (each) {
      played[each] = 0;
      positions[each] = [];
    });
    var isPlaying = false;
    var side = sides[0];
    var pos = 0;
    var t = 0;
    var switches = 0;
    var low = 0;
    var high = loopS;
    events.forEach(function (event, index) {
      if (isPlaying && event.t > t) {
        var duration = (event.t - t) / 1000;
        played[side] += duration;
        positions[side] = positions[side].concat(segmentPositions(pos, duration, low, high));
      }
      if (event.type === "play") {
        isPlaying = true;
      } else if (event.type === "pause") {
        isPlaying = false;
      } else if (event.type === "loop") {
        // A region covering the whole excerpt (within 1 ms) clears it, as on the server.
        var whole = event.from <= 0.001 && event.to >= loopS - 0.001;
        low = whole ? 0 : event.from;
        high = whole ? loopS : Math.min(event.to, loopS);
      }
      if (index > 0 && event.side !== side) {
        switches += 1;
      }
      side = event.side;
      pos = event.pos;
      t = event.t;
    });
    var heard = {};
    sides.forEach(function (each) {
      heard[each] = intervalsUnion(positions[each]);
    });
    return { played: played, heard: heard, switches: switches };
  }

  // A lost connection or a server error (5xx: a restarting worker, the database away for a
  // moment) is retried here, the same answer each time, after these pauses (±25%): the server
  // stores an answer once and answers a repeat of it as stored (201, then 200), so the
  // listener never sees these failures and nothing is stored twice. After the last retry the
  // page shows the error as before.
  var ANSWER_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 8000];

  // The answer as JSON to `url` with the form's CSRF token: a promise of {status, ok, payload}
  // (payload {} when the reply is not JSON); it fails only when the server cannot be reached
  // (after the retries above).
  function postAnswer(url, form, answer) {
    var body = JSON.stringify(answer);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;

    function attempt(number) {
      function again(failure) {
        if (number >= ANSWER_RETRY_DELAYS_MS.length) {
          return failure();
        }
        var delay = ANSWER_RETRY_DELAYS_MS[number] * (0.75 + 0.5 * Math.random());
        return new Promise(function (resolve) {
          window.setTimeout(resolve, delay);
        }).then(function () {
          return attempt(number + 1);
        });
      }
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: body,
      }).then(
        function (response) {
          if (response.status >= 500) {
            return again(function () {
              return answerResult(response);
            });
          }
          return answerResult(response);
        },
        function (error) {
          return again(function () {
            throw error;
          });
        }
      );
    }

    return attempt(0);
  }

  function answerResult(response) {
    return response
      .json()
      .catch(function () {
        return {};
      })
      .then(function (payload) {
        return { status: response.status, ok: response.ok, payload: payload };
      });
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
    syncClock: syncClock,
    postAnswer: postAnswer,
    heardBySide: heardBySide,
    intervalsUnion: intervalsUnion,
    intervalsIntersection: intervalsIntersection,
    intervalsLength: intervalsLength,
  };
})();
