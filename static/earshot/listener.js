/* Earshot listener: the blind A/B trial page.
 *
 * The player is the clock the single-track and pool pages share (webAudio.syncClock,
 * static/earshot/webaudio.js): both excerpts are fetched and decoded up front, then started at
 * the same instant on the audio clock, each through its own GainNode. Switching between A and
 * B only moves the two gains, so the switch is instant and lands on the same moment in the
 * music. The excerpts loop until paused.
 *
 * Every play, pause, switch and seek goes into a listening log (the position in the excerpt
 * from the audio clock, the time in ms since the trial was first shown), which is sent with
 * the answer. The questions unlock when the log shows the same passage heard on both A and B
 * for the required time; `summarize` below (on webAudio.heardBySide) is the server's rule
 * (evaluation/listening_log.py) line for line, so an answer this page allows is never refused
 * for it. A context that stops running (a suspended or interrupted device) pauses playback
 * and so the count.
 *
 * The player also has a time readout, a restart button and a loop region (drag on the
 * timeline, or the loop button at two moments); a `loop` event in the log says which region
 * playback wraps in, and "heard" counts the same passage (overlapping positions) on A and B.
 *
 * Instant trials: once the questions unlock, the page asks the server to reserve the next trial
 * (`data-ahead`) and downloads and decodes its two excerpts while the listener answers; after
 * the answer is stored, the next trial's page replaces this one in place and plays from the
 * decoded buffers at once. Audio comes through the HTTP cache (private, immutable per-listener
 * URLs), and the log of a trial is kept in sessionStorage, so a reload neither downloads the
 * audio again nor loses what was heard.
 *
 * Nothing in this file, the page or window.earshotPlayer tells A from B beyond the letter.
 */
window.earshotTrialPage = function (preloaded) {
  "use strict";

  // Django's JavaScript catalogue (/i18n/js/) translates; without it the page stays English.
  // (var, not const: another part of this file may declare the same fallback.)
  var gettext = window.gettext || function (s) { return s; };
  var interpolate =
    window.interpolate ||
    function (fmt, obj) {
      return fmt.replace(/%\((\w+)\)s/g, function (match, name) {
        return String(obj[name]);
      });
    };

  var SIDES = ["a", "b"];
  // The server accepts at most this many events (evaluation/listening_log.py, MAX_EVENTS).
  var MAX_EVENTS = 10000;
  // The shortest loop region (evaluation/listening_log.py, MIN_REGION_S).
  var MIN_REGION_S = 0.25;
  // A pointer that moves more than this on the timeline drags a loop region.
  var DRAG_PX = 6;

  var config = document.getElementById("earshot-trial");
  if (!config) {
    return;
  }
  var endpoints = {
    a: config.dataset.a,
    b: config.dataset.b,
    answer: config.dataset.answer,
    ahead: config.dataset.ahead || "",
  };
  var required = Math.max(0, parseFloat(config.dataset.required) || 0);
  // The endpoints live in this closure only; drop them from the live DOM.
  config.parentNode.removeChild(config);

  var el = {
    player: document.getElementById("player"),
    status: document.getElementById("player-status"),
    play: document.getElementById("play"),
    playLabel: document.querySelector("#play .play-label"),
    seek: document.getElementById("seek"),
    timeFill: document.getElementById("timeline-fill"),
    timeHead: document.getElementById("timeline-head"),
    regionBox: document.getElementById("timeline-region"),
    time: document.getElementById("time"),
    restart: document.getElementById("restart"),
    loop: document.getElementById("loop"),
    loopLabel: document.querySelector("#loop .loop-label"),
    side: { a: document.getElementById("side-a"), b: document.getElementById("side-b") },
    meter: { a: document.getElementById("meter-a"), b: document.getElementById("meter-b") },
    heard: { a: document.getElementById("heard-a"), b: document.getElementById("heard-b") },
    heardBoth: document.getElementById("heard-both"),
    form: document.getElementById("answer-form"),
    questions: document.getElementById("questions"),
    lockedNote: document.getElementById("locked-note"),
    error: document.getElementById("answer-error"),
    submit: document.getElementById("submit"),
  };
  var asks = {
    liked: !!el.form.querySelector("input[name=liked_a]"),
    ai: !!el.form.querySelector("input[name=guess_ai]"),
  };

  var webAudio = window.earshotWebAudio;
  // The two excerpts on one audio clock, and the listening log (static/earshot/webaudio.js).
  // Its log's clock starts when the trial was first shown and goes on across reloads.
  var audio = webAudio.syncClock({
    ctx: preloaded ? preloaded.ctx : null,
    sides: SIDES,
    maxEvents: MAX_EVENTS,
    onEvent: function () {
      persist(true);
    },
    onInterrupt: function () {
      render();
    },
  });
  var ready = false;
  var failed = false;
  var heard = { playedA: 0, playedB: 0, heardA: 0, heardB: 0, overlap: 0, switches: 0 };
  var unlocked = false;
  var submitting = false;
  var mark = null; // seconds: a loop start set with the loop button, waiting for its end
  var drag = null; // a pointer on the timeline: {id, x, from}
  var ahead = null; // the next trial, prefetched: {urls: [a, b], buffers: Promise}
  var alive = true; // false once the next trial's page has replaced this one
  var readyClock = 0; // when this trial became playable (webAudio.clock(), ms)
  var aheadReady = 0; // when the next trial's audio was decoded ahead (ms; 0: not yet)
  // This trial's log survives a reload of the tab (sessionStorage).
  var saved = webAudio.store("earshot:trial:" + endpoints.answer);
  var savedAt = 0;

  /* ---------- audio ---------- */

  function load() {
    if (!audio.ctx) {
      fail(gettext("Your browser cannot play this test (no Web Audio). Please use a recent Chrome, Firefox or Safari."));
      return;
    }
    var urls = SIDES.map(function (side) {
      return endpoints[side];
    });
    audio.load(urls, preloaded && preloaded.buffers).then(
      function () {
        if (!alive) {
          return;
        }
        restore();
        ready = true;
        readyClock = webAudio.clock();
        el.player.dataset.state = "ready";
        el.play.disabled = false;
        el.seek.setAttribute("aria-disabled", "false");
        el.restart.disabled = false;
        el.loop.disabled = false;
        SIDES.forEach(function (side) {
          el.side[side].disabled = false;
        });
        setStatus(gettext("Ready. Press Play, then switch between A and B."));
        render();
      },
      function () {
        fail(gettext("The audio could not be loaded. Check your connection and reload the page."));
      }
    );
  }

  function fail(message) {
    failed = true;
    el.player.dataset.state = "error";
    el.status.classList.add("error");
    el.status.textContent = message + " ";
    var reload = document.createElement("button");
    reload.type = "button";
    reload.className = "link-button";
    reload.textContent = gettext("Reload");
    reload.addEventListener("click", function () {
      window.location.reload();
    });
    el.status.appendChild(reload);
  }

  /* ---------- the listening log (its clock and events: webAudio.syncClock) ---------- */

  function persist(force) {
    var clock = webAudio.clock();
    if (!ready || (!force && clock - savedAt < 1000)) {
      return;
    }
    savedAt = clock;
    saved.set({ origin: audio.origin, loop: audio.loopLength, events: audio.log, alive: clock });
  }

  // A reload of the same trial: its log, side, position and region come back, and what was
  // heard counts on. Playing when the tab went away: a pause is added where it stopped.
  function restore() {
    var record = saved.get();
    if (!record || !Array.isArray(record.events) || Math.abs(record.loop - audio.loopLength) > 0.01) {
      return;
    }
    audio.origin = record.origin;
    audio.log = record.events.slice(0, MAX_EVENTS - 2);
    var last = audio.log[audio.log.length - 1];
    if (!last) {
      return;
    }
    var wasPlaying = false;
    audio.log.forEach(function (event) {
      if (event.type === "play") {
        wasPlaying = true;
      } else if (event.type === "pause") {
        wasPlaying = false;
      } else if (event.type === "loop") {
        audio.region = event.from > 0 || event.to < audio.loopLength ? [event.from, event.to] : null;
      }
    });
    audio.active = last.side;
    audio.startOffset = last.pos;
    if (wasPlaying) {
      var t = Math.max(last.t, Math.round((record.alive - audio.origin) * 10) / 10);
      audio.startOffset = Math.round(audio.advance(last.pos, (t - last.t) / 1000) * 10000) / 10000;
      audio.log.push({ t: t, type: "pause", side: audio.active, pos: audio.startOffset });
    }
    audio.setGains();
  }

  // The server's summarize (evaluation/listening_log.py), on webAudio.heardBySide.
  function summarize(events, loopS) {
    var by = webAudio.heardBySide(events, loopS, SIDES);
    return {
      playedA: by.played.a,
      playedB: by.played.b,
      heardA: webAudio.intervalsLength(by.heard.a),
      heardB: webAudio.intervalsLength(by.heard.b),
      overlap: webAudio.intervalsLength(webAudio.intervalsIntersection(by.heard.a, by.heard.b)),
      switches: by.switches,
    };
  }

  // (End of the rule the listening-log test compares with the server's.)

  function accrue() {
    if (ready) {
      heard = summarize(audio.logUntilNow("submit"), audio.loopLength);
    }
  }

  function needed() {
    // The whole excerpt when it is shorter than the study's minimum.
    return Math.min(required, audio.loopLength || required);
  }

  function play() {
    if (!ready || audio.playing || failed) {
      return;
    }
    audio.play().then(render, function () {
      setStatus(gettext("Your browser blocked playback. Press Play again."));
      render();
    });
    render();
  }

  function pause() {
    if (audio.pause()) {
      render();
    }
  }

  function toggle() {
    if (audio.playing) {
      pause();
    } else {
      play();
    }
  }

  function select(side) {
    if (ready && audio.select(side)) {
      render();
    }
  }

  function seekTo(fraction) {
    if (!ready) {
      return;
    }
    var offset = Math.min(Math.max(fraction, 0), 0.999) * audio.loopLength;
    if (audio.region && (offset < audio.region[0] || offset > audio.region[1])) {
      setRegion(null); // a seek outside the loop region ends the loop
    }
    audio.moveTo(offset);
    audio.logEvent("seek");
    render();
  }

  function restart() {
    if (!ready) {
      return;
    }
    audio.moveTo(audio.bounds()[0]);
    audio.logEvent("seek");
    if (!audio.playing) {
      play();
    }
    render();
  }

  // Loop between `from` and `to` seconds (null: the whole excerpt again). Playback moves to
  // the region's start unless it is inside the region already.
  function setRegion(span) {
    if (!ready) {
      return;
    }
    var next = null;
    if (span) {
      var from = Math.max(0, Math.min(span[0], span[1]));
      var to = Math.min(audio.loopLength, Math.max(span[0], span[1]));
      if (to - from < MIN_REGION_S) {
        setStatus(gettext("That loop is too short: make it at least a quarter of a second."));
        return;
      }
      if (from > 0 || to < audio.loopLength) {
        next = [Math.round(from * 10000) / 10000, Math.round(to * 10000) / 10000];
      }
    }
    var at = audio.position();
    var inside = next ? at >= next[0] && at <= next[1] : true;
    audio.setRegion(next, inside ? at : next[0]);
    mark = null;
    audio.logEvent("loop");
    render();
  }

  function loopButton() {
    if (!ready) {
      return;
    }
    if (audio.region) {
      setRegion(null);
    } else if (mark === null) {
      mark = audio.position();
      render();
    } else {
      setRegion([mark, audio.position()]);
    }
  }

  /* ---------- the timeline: click to seek, drag to loop a passage, keys to step ---------- */

  function fractionAt(clientX) {
    var box = el.seek.getBoundingClientRect();
    return box.width > 0 ? Math.min(Math.max((clientX - box.left) / box.width, 0), 1) : 0;
  }

  function onPointerDown(event) {
    if (!ready || event.button !== 0) {
      return;
    }
    event.preventDefault();
    el.seek.focus();
    drag = { id: event.pointerId, x: event.clientX, from: fractionAt(event.clientX), moved: false };
    if (el.seek.setPointerCapture) {
      el.seek.setPointerCapture(event.pointerId);
    }
  }

  function onPointerMove(event) {
    if (!drag || event.pointerId !== drag.id) {
      return;
    }
    if (Math.abs(event.clientX - drag.x) > DRAG_PX) {
      drag.moved = true;
    }
    if (drag.moved) {
      var f = fractionAt(event.clientX);
      showRegion([Math.min(drag.from, f) * audio.loopLength, Math.max(drag.from, f) * audio.loopLength]);
    }
  }

  function onPointerUp(event) {
    if (!drag || event.pointerId !== drag.id) {
      return;
    }
    var from = drag.from;
    var moved = drag.moved;
    drag = null;
    var to = fractionAt(event.clientX);
    if (moved) {
      setRegion([from * audio.loopLength, to * audio.loopLength]);
    } else {
      seekTo(to);
    }
    render();
  }

  function onTimelineKey(event) {
    if (!ready) {
      return;
    }
    var step = event.shiftKey ? 5 : 1;
    var at = audio.position();
    var target = null;
    if (event.key === "ArrowLeft" || event.key === "ArrowDown") {
      target = at - step;
    } else if (event.key === "ArrowRight" || event.key === "ArrowUp") {
      target = at + step;
    } else if (event.key === "PageDown") {
      target = at - 5;
    } else if (event.key === "PageUp") {
      target = at + 5;
    } else if (event.key === "Home") {
      target = audio.bounds()[0];
    } else if (event.key === "End") {
      target = audio.bounds()[1] - 1;
    }
    if (target === null) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    var low = audio.bounds()[0];
    var high = audio.bounds()[1];
    audio.moveTo(Math.min(Math.max(target, low), high - 0.001));
    audio.logEvent("seek");
    render();
  }

  function showRegion(span) {
    if (!span || audio.loopLength <= 0) {
      el.regionBox.hidden = true;
      return;
    }
    el.regionBox.hidden = false;
    el.regionBox.style.left = ((span[0] / audio.loopLength) * 100).toFixed(2) + "%";
    el.regionBox.style.width = (((span[1] - span[0]) / audio.loopLength) * 100).toFixed(2) + "%";
  }

  /* ---------- page ---------- */

  function setStatus(text) {
    // Only on change: the status is a live region, and re-setting it would re-announce it.
    if (el.status.textContent !== text) {
      el.status.classList.remove("error");
      el.status.textContent = text;
    }
  }

  function seconds(value) {
    // Whole seconds when the requirement is whole, tenths otherwise.
    var whole = Math.abs(required - Math.round(required)) < 1e-9;
    return whole ? String(Math.floor(value + 1e-9)) : (Math.floor(value * 10 + 1e-9) / 10).toFixed(1);
  }

  function heardEnough(side) {
    return (side === "a" ? heard.heardA : heard.heardB) >= needed();
  }

  function selected(name) {
    var input = el.form.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : null;
  }

  function complete() {
    return (
      selected("choice") !== null &&
      (!asks.liked || (selected("liked_a") !== null && selected("liked_b") !== null)) &&
      (!asks.ai || selected("guess_ai") !== null) &&
      (!window.earshotQuestions || window.earshotQuestions.complete(el.form))
    );
  }

  function render() {
    accrue();
    SIDES.forEach(function (side) {
      var isActive = side === audio.active;
      el.side[side].classList.toggle("is-active", isActive);
      el.side[side].classList.toggle("is-playing", isActive && audio.playing);
      el.side[side].setAttribute("aria-pressed", isActive ? "true" : "false");
      var distinct = side === "a" ? heard.heardA : heard.heardB;
      var share = needed() > 0 ? Math.min(distinct / needed(), 1) : 1;
      el.meter[side].style.width = (share * 100).toFixed(1) + "%";
      var done = heardEnough(side);
      el.side[side].classList.toggle("is-heard", done);
      el.heard[side].textContent = done
        ? gettext("heard ✓")
        : interpolate(
            gettext("%(heard)s of %(required)s s"),
            { heard: seconds(Math.min(distinct, needed())), required: seconds(needed()) },
            true
          );
    });
    var both = heard.overlap >= needed();
    el.heardBoth.classList.toggle("is-heard", both);
    el.heardBoth.textContent = both
      ? gettext("Same passage heard on A and B ✓")
      : interpolate(
          gettext("Same passage heard on A and B: %(heard)s of %(required)s s"),
          { heard: seconds(Math.min(heard.overlap, needed())), required: seconds(needed()) },
          true
        );
    el.play.setAttribute("aria-pressed", audio.playing ? "true" : "false");
    el.play.classList.toggle("is-playing", audio.playing);
    el.playLabel.textContent = audio.playing ? gettext("Pause") : gettext("Play");
    if (ready && audio.loopLength > 0) {
      var at = audio.position();
      var share = ((at / audio.loopLength) * 100).toFixed(2) + "%";
      el.timeFill.style.width = share;
      el.timeHead.style.left = share;
      var readout = webAudio.formatTime(at) + " / " + webAudio.formatTime(audio.loopLength);
      el.time.textContent = readout;
      el.seek.setAttribute("aria-valuemax", String(Math.round(audio.loopLength)));
      el.seek.setAttribute("aria-valuenow", String(Math.floor(at)));
      el.seek.setAttribute(
        "aria-valuetext",
        webAudio.formatTime(at) + " " + gettext("of") + " " + webAudio.formatTime(audio.loopLength)
      );
      if (!drag || !drag.moved) {
        showRegion(audio.region);
      }
      el.loop.setAttribute("aria-pressed", audio.region ? "true" : "false");
      el.loop.classList.toggle("is-marked", mark !== null);
      el.loopLabel.textContent = audio.region
        ? gettext("Stop looping")
        : mark === null
          ? gettext("Loop from here")
          : gettext("Loop to here");
    }
    if (!unlocked && ready && heard.overlap >= needed()) {
      unlocked = true;
      el.questions.disabled = false;
      el.lockedNote.hidden = true;
      el.form.classList.add("is-unlocked");
      prefetchAhead();
    }
    if (ready && !failed) {
      if (audio.playing) {
        setStatus(
          unlocked
            ? gettext("You can answer now, or keep listening as long as you like.")
            : gettext("Playing. Switch between A and B at any time.")
        );
      } else if (audio.startOffset > 0 || audio.log.length > 0) {
        setStatus(gettext("Paused."));
      }
    }
    el.submit.disabled = !(unlocked && complete()) || submitting;
    // An error the listener has since resolved goes away.
    if (
      (errorKind === "locked" && unlocked) ||
      (errorKind === "incomplete" && unlocked && complete())
    ) {
      clearError();
    }
  }

  function choose(name, value) {
    if (!unlocked) {
      return;
    }
    var input = el.form.querySelector("input[name=" + name + "][value=" + value + "]");
    if (input) {
      input.checked = true;
      render();
    }
  }

  // What the error shown is about: "locked", "incomplete" (both clear themselves once
  // resolved), "server" (clears on the next submit) or null when none is shown.
  var errorKind = null;

  function clearError() {
    errorKind = null;
    el.error.hidden = true;
    el.error.textContent = "";
  }

  function showError(text, offerReload, kind) {
    errorKind = kind || "server";
    el.error.textContent = text;
    if (offerReload) {
      var reload = document.createElement("button");
      reload.type = "button";
      reload.className = "link-button";
      reload.textContent = gettext("Reload the page");
      reload.addEventListener("click", function () {
        window.location.reload();
      });
      el.error.appendChild(document.createTextNode(" "));
      el.error.appendChild(reload);
    }
    el.error.hidden = false;
  }

  function liked(name) {
    var value = selected(name);
    return value === null ? null : value === "yes";
  }

  function submit() {
    if (submitting) {
      return;
    }
    if (!unlocked) {
      showError(
        gettext("Listen to both A and B long enough first; the questions unlock then."),
        false,
        "locked"
      );
      return;
    }
    if (!complete()) {
      showError(gettext("Please answer every question before submitting."), false, "incomplete");
      return;
    }
    // The submit event closes the log only in what is sent: if the answer does not go
    // through, listening goes on and a later submit closes it again.
    var events = audio.logUntilNow("submit");
    var sent = summarize(events, audio.loopLength);
    var answer = {
      choice: selected("choice"),
      liked_a: asks.liked ? liked("liked_a") : null,
      liked_b: asks.liked ? liked("liked_b") : null,
      guess_ai: asks.ai ? selected("guess_ai") : "",
      listen_a_s: Math.round(sent.playedA * 100) / 100,
      listen_b_s: Math.round(sent.playedB * 100) / 100,
      listening: { loop_s: audio.loopLength, events: events },
    };
    if (window.earshotQuestions) {
      // The study's extra questions (aspects, rating, playlist/release, weaker, familiar).
      Object.assign(answer, window.earshotQuestions.collect(el.form));
    }
    submitting = true;
    clearError();
    el.submit.classList.add("is-busy");
    render();
    webAudio
      .postAnswer(endpoints.answer, el.form, answer)
      .then(
        function (result) {
          if (result.ok && result.payload.stored && result.payload.next) {
            pause();
            saved.clear();
            setStatus(gettext("Saved. Loading the next question…"));
            next(result.payload.next);
            return;
          }
          submitting = false;
          el.submit.classList.remove("is-busy");
          var detail =
            result.payload.detail ||
            interpolate(
              gettext("The server could not store your answer (error %(status)s). Please try again."),
              { status: result.status },
              true
            );
          var stale =
            result.status === 403 ||
            result.status === 409 ||
            result.payload.error === "foreign_trial";
          // Server messages come translated; an English one is a sentence without its capital.
          var sentence = detail.charAt(0).toUpperCase() + detail.slice(1);
          showError(/[.。!！?？]$/.test(sentence) ? sentence : sentence + ".", stale);
          render();
        },
        function () {
          submitting = false;
          el.submit.classList.remove("is-busy");
          showError(
            gettext(
              "Could not reach the server, so your answer is not saved yet. Check your connection and press Submit again."
            ),
            false
          );
          render();
        }
      );
  }

  /* ---------- the next trial: reserved, downloaded and decoded while this one is answered ---------- */

  function prefetchAhead() {
    if (!endpoints.ahead || ahead) {
      return;
    }
    ahead = { urls: [], buffers: Promise.reject(new Error("no trial ahead")) };
    ahead.buffers.catch(function () {});
    fetch(endpoints.ahead, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": el.form.querySelector("input[name=csrfmiddlewaretoken]").value },
    })
      .then(function (response) {
        return response.ok ? response.json() : { audio: [] };
      })
      .then(function (payload) {
        var urls = payload && Array.isArray(payload.audio) ? payload.audio : [];
        if (urls.length !== 2 || !alive) {
          return;
        }
        var buffers = Promise.all(
          urls.map(function (url) {
            return webAudio.load(audio.ctx, url);
          })
        );
        buffers.then(
          function () {
            aheadReady = webAudio.clock();
          },
          function () {}
        );
        ahead = { urls: urls, buffers: buffers };
      })
      .catch(function () {
        /* no prefetch: the next trial loads after submit, as without it */
      });
  }

  function go(url) {
    window.location.href = url;
  }

  // After the answer is stored: the next trial's page replaces this one in place when its
  // audio is the one decoded ahead; anything else (done, continue, no prefetch) is a normal
  // page load.
  function next(url) {
    if (!ahead || ahead.urls.length !== 2) {
      go(url);
      return;
    }
    var expected = ahead.urls;
    Promise.all([
      ahead.buffers,
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      }),
    ]).then(
      function (results) {
        var doc = new DOMParser().parseFromString(results[1], "text/html");
        var nextConfig = doc.getElementById("earshot-trial");
        var main = doc.querySelector("main");
        if (
          !nextConfig ||
          !main ||
          nextConfig.dataset.a !== expected[0] ||
          nextConfig.dataset.b !== expected[1]
        ) {
          go(url);
          return;
        }
        destroy();
        document.title = doc.title;
        document.querySelector("main").replaceWith(document.adoptNode(main));
        document.body.appendChild(document.adoptNode(nextConfig));
        window.scrollTo(0, 0);
        window.earshotTrialPage({ ctx: audio.ctx, buffers: results[0] });
        var heading = document.getElementById("player-title");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus({ preventScroll: true });
        }
      },
      function () {
        go(url);
      }
    );
  }

  function destroy() {
    alive = false;
    audio.destroy();
    window.clearInterval(ticker);
    document.removeEventListener("keydown", onKeyDown);
    document.removeEventListener("keyup", onKeyUp);
    document.removeEventListener("click", onClickBlur);
    window.removeEventListener("pagehide", onPageHide);
  }

  function onPageHide() {
    // Leaving or reloading: close the log where playback stops, so the count resumes right.
    if (audio.playing) {
      pause();
    }
    persist(true);
  }

  /* ---------- events ---------- */

  el.play.addEventListener("click", toggle);
  el.restart.addEventListener("click", restart);
  el.loop.addEventListener("click", loopButton);
  SIDES.forEach(function (side) {
    el.side[side].addEventListener("click", function () {
      select(side);
    });
  });
  el.seek.addEventListener("pointerdown", onPointerDown);
  el.seek.addEventListener("pointermove", onPointerMove);
  el.seek.addEventListener("pointerup", onPointerUp);
  el.seek.addEventListener("pointercancel", function () {
    drag = null;
    render();
  });
  el.seek.addEventListener("keydown", onTimelineKey);
  el.form.addEventListener("change", function () {
    if (window.earshotQuestions) {
      window.earshotQuestions.refresh(el.form);
    }
    render();
  });
  el.form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  var SHORTCUTS = {
    " ": toggle,
    Spacebar: toggle,
    a: function () {
      select("a");
    },
    b: function () {
      select("b");
    },
    1: function () {
      choose("choice", "a");
    },
    2: function () {
      choose("choice", "b");
    },
    0: function () {
      choose("choice", "tie");
    },
    Enter: submit,
  };

  // Single-key shortcuts can be turned off (WCAG 2.1.4); the choice is remembered here.
  var SHORTCUTS_KEY = "earshot:shortcuts";
  var shortcutsToggle = document.getElementById("shortcuts-on");
  var shortcutsList = document.getElementById("shortcuts-list");

  function remembered(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (ignored) {
      return null; // storage blocked: shortcuts stay on for this page
    }
  }

  function shortcutsOn() {
    return !shortcutsToggle || shortcutsToggle.checked;
  }

  if (shortcutsToggle) {
    shortcutsToggle.checked = remembered(SHORTCUTS_KEY) !== "off";
    shortcutsList.hidden = !shortcutsToggle.checked;
    shortcutsToggle.addEventListener("change", function () {
      shortcutsList.hidden = !shortcutsToggle.checked;
      try {
        window.localStorage.setItem(SHORTCUTS_KEY, shortcutsToggle.checked ? "on" : "off");
      } catch (ignored) {
        /* not remembered */
      }
    });
  }

  // A control that has focus keeps its own keys (Space and Enter press a button, arrows move
  // between radios): shortcuts only act when focus is on no control.
  function onControl(target) {
    return !!(
      target &&
      target.closest &&
      (target.isContentEditable ||
        target.closest("button, input, select, textarea, a[href], [role=button], [role=radio]"))
    );
  }

  // A click with the mouse or a finger leaves no focus on the player's buttons, so the
  // shortcuts go on working; keyboard presses (detail 0) keep focus where it is.
  function onClickBlur(event) {
    var button = event.target.closest && event.target.closest("#player button");
    if (button && event.detail > 0) {
      button.blur();
    }
  }
  document.addEventListener("click", onClickBlur);

  function onKeyDown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (event.key === "Escape" && onControl(target) && target.blur) {
      target.blur(); // back to the page, where shortcuts act
      return;
    }
    if (!shortcutsOn() || onControl(target)) {
      return;
    }
    var key = event.key && event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var action = SHORTCUTS[key];
    if (!action) {
      return;
    }
    // Space would scroll the page.
    event.preventDefault();
    if (!event.repeat) {
      action();
    }
  }
  function onKeyUp(event) {
    if ((event.key === " " || event.key === "Spacebar") && shortcutsOn() && !onControl(event.target)) {
      event.preventDefault();
    }
  }
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);
  window.addEventListener("pagehide", onPageHide);

  var ticker = window.setInterval(function () {
    render();
    persist(false);
  }, 100);

  // Read-only status for tests and support: no URLs, nothing that tells A from B.
  window.earshotPlayer = Object.freeze({
    state: function () {
      accrue();
      return {
        ready: ready,
        contextState: audio.ctx ? audio.ctx.state : "none",
        currentTime: audio.ctx ? audio.ctx.currentTime : 0,
        playing: audio.playing,
        active: audio.active,
        heardA: heard.playedA,
        heardB: heard.playedB,
        heardOverlap: heard.overlap,
        // Distinct excerpt positions heard per side (heardA/heardB above are played time).
        passageA: heard.heardA,
        passageB: heard.heardB,
        switches: heard.switches,
        events: audio.log.length,
        required: required,
        unlocked: unlocked,
        position: audio.loopLength > 0 ? audio.position() / audio.loopLength : 0,
        seconds: audio.position(),
        length: audio.loopLength,
        region: audio.region ? audio.region.slice() : null,
        readyClock: readyClock,
        prefetched: !!(ahead && ahead.urls.length === 2),
        aheadReady: aheadReady,
      };
    },
  });

  load();
};

window.earshotTrialPage(null);
