/* Earshot: the single-track and pool trial pages (templates/listener/trial_single.html,
 * trial_pool.html). The A/B player of listener.js generalised to N tracks (N = 1 for a
 * single track, 3-10 for a pool): every track is fetched and decoded up front, all start on
 * the same instant of the audio clock, each through its own GainNode, and switching only
 * moves the gains, so it is instant and keeps the moment in the music (one clock).
 *
 * Every play, pause, switch and seek goes into the listening log sent with the answer (the
 * format of evaluation/listening_log.py; a pool's track n is side "a", "b", ... by screen
 * position). The questions unlock once every track has been heard for the required time,
 * the rule the server applies (services/listening_evidence.py).
 *
 * Nothing here, in the page or in window.earshotPlayer tells which system a track is.
 */
(function () {
  "use strict";

  const gettext = window.gettext || ((s) => s);
  const interpolate =
    window.interpolate ||
    ((fmt, obj) => fmt.replace(/%\((\w+)\)s/g, (match, name) => String(obj[name])));
  var SWITCH_RAMP_S = 0.005;
  var START_LEAD_S = 0.04;
  var MAX_EVENTS = 10000;
  var LETTERS = "abcdefghij";

  var config = document.getElementById("earshot-trial");
  if (!config) {
    return;
  }
  var urls = config.dataset.urls.split(",");
  var answerUrl = config.dataset.answer;
  var kind = config.dataset.kind; // "single" or "pool"
  var required = Math.max(0, parseFloat(config.dataset.required) || 0);
  config.parentNode.removeChild(config);
  var SIDES = urls.map(function (_, index) {
    return LETTERS.charAt(index);
  });

  function byId(id) {
    return document.getElementById(id);
  }

  var el = {
    player: byId("player"),
    status: byId("player-status"),
    play: byId("play"),
    playLabel: document.querySelector("#play .play-label"),
    seek: byId("seek"),
    form: byId("answer-form"),
    questions: byId("questions"),
    lockedNote: byId("locked-note"),
    error: byId("answer-error"),
    submit: byId("submit"),
    side: {},
    meter: {},
    heard: {},
  };
  SIDES.forEach(function (side, index) {
    var n = index + 1;
    el.side[side] = byId("track-" + n);
    el.meter[side] = byId("meter-" + n);
    el.heard[side] = byId("heard-" + n);
  });

  var ctx = null;
  var buffers = {};
  var gains = {};
  var sources = null;
  var loopLength = 0;
  var ready = false;
  var failed = false;
  var playing = false;
  var active = "a";
  var log = [];
  var heard = { played: {}, distinct: {}, switches: 0 };
  var startedAt = 0;
  var startOffset = 0;
  var wasRunning = false;
  var unlocked = false;
  var submitting = false;
  var seeking = false;
  var webAudio = window.earshotWebAudio;

  function setStatus(text) {
    if (el.status.textContent !== text) {
      el.status.classList.remove("error");
      el.status.textContent = text;
    }
  }

  function fail(message) {
    failed = true;
    el.player.dataset.state = "error";
    el.status.classList.add("error");
    el.status.textContent = message;
  }

  function load() {
    ctx = webAudio.createContext();
    if (!ctx) {
      fail(gettext("Your browser cannot play this test (no Web Audio). Please use a recent Chrome, Firefox or Safari."));
      return;
    }
    ctx.onstatechange = function () {
      if (ctx.state === "running") {
        wasRunning = true;
      } else if (wasRunning && playing) {
        wasRunning = false;
        pause();
      }
    };
    SIDES.forEach(function (side) {
      gains[side] = ctx.createGain();
      gains[side].gain.value = side === active ? 1 : 0;
      gains[side].connect(ctx.destination);
    });
    Promise.all(
      SIDES.map(function (side, index) {
        return webAudio.fetchBytes(urls[index]).then(function (bytes) {
          return webAudio.decode(ctx, bytes);
        });
      })
    ).then(
      function (decoded) {
        SIDES.forEach(function (side, index) {
          buffers[side] = decoded[index];
        });
        loopLength = Math.min.apply(
          null,
          decoded.map(function (buffer) {
            return buffer.duration;
          })
        );
        ready = true;
        el.player.dataset.state = "ready";
        el.play.disabled = false;
        el.seek.disabled = false;
        SIDES.forEach(function (side) {
          if (el.side[side]) {
            el.side[side].disabled = false;
          }
        });
        setStatus(kind === "pool" ? gettext("Ready. Press Play, then switch between the tracks.") : gettext("Ready. Press Play."));
        render();
      },
      function () {
        fail(gettext("The audio could not be loaded. Check your connection and reload the page."));
      }
    );
  }

  function position() {
    if (!playing || !ctx) {
      return startOffset;
    }
    return (startOffset + Math.max(0, ctx.currentTime - startedAt)) % loopLength;
  }

  function stamp(type) {
    return {
      t: Math.round(performance.now() * 10) / 10,
      type: type,
      side: active,
      pos: Math.round(position() * 10000) / 10000,
    };
  }

  function logEvent(type) {
    if (log.length < MAX_EVENTS - 1) {
      log.push(stamp(type));
    }
  }

  function segmentPositions(start, duration, loopS) {
    if (duration >= loopS) {
      return [[0, loopS]];
    }
    start = Math.min(start, loopS);
    var end = start + duration;
    return end <= loopS ? [[start, end]] : [[start, loopS], [0, end - loopS]];
  }

  function distinctLength(intervals) {
    var sorted = intervals.slice().sort(function (x, y) {
      return x[0] - y[0] || x[1] - y[1];
    });
    var total = 0;
    var reached = -1;
    var open = null;
    sorted.forEach(function (interval) {
      if (interval[1] <= interval[0]) {
        return;
      }
      if (open && interval[0] <= open[1]) {
        open[1] = Math.max(open[1], interval[1]);
      } else {
        if (open) {
          total += open[1] - open[0];
        }
        open = [interval[0], interval[1]];
      }
      reached = Math.max(reached, interval[1]);
    });
    return open ? total + open[1] - open[0] : total;
  }

  // evaluation/listening_log.py heard_by_side, line for line.
  function summarize(events, loopS) {
    var played = {};
    var positions = {};
    SIDES.forEach(function (side) {
      played[side] = 0;
      positions[side] = [];
    });
    var isPlaying = false;
    var side = "a";
    var pos = 0;
    var t = 0;
    var switches = 0;
    events.forEach(function (event, index) {
      if (isPlaying && event.t > t) {
        var duration = (event.t - t) / 1000;
        played[side] += duration;
        positions[side] = positions[side].concat(segmentPositions(pos, duration, loopS));
      }
      if (event.type === "play") {
        isPlaying = true;
      } else if (event.type === "pause") {
        isPlaying = false;
      }
      if (index > 0 && event.side !== side) {
        switches += 1;
      }
      side = event.side;
      pos = event.pos;
      t = event.t;
    });
    var distinct = {};
    SIDES.forEach(function (each) {
      distinct[each] = distinctLength(positions[each]);
    });
    return { played: played, distinct: distinct, switches: switches };
  }

  function accrue() {
    if (ready) {
      heard = summarize(log.concat([stamp("submit")]), loopLength);
    }
  }

  function needed() {
    return Math.min(required, loopLength || required);
  }

  function startSources(offset) {
    var when = ctx.currentTime + START_LEAD_S;
    sources = {};
    SIDES.forEach(function (side) {
      var node = ctx.createBufferSource();
      node.buffer = buffers[side];
      node.loop = true;
      node.loopStart = 0;
      node.loopEnd = loopLength;
      node.connect(gains[side]);
      node.start(when, offset);
      sources[side] = node;
    });
    startedAt = when;
    startOffset = offset;
    playing = true;
  }

  function stopSources() {
    if (!sources) {
      return;
    }
    startOffset = position();
    SIDES.forEach(function (side) {
      try {
        sources[side].stop();
      } catch (ignored) {
        /* already stopped */
      }
      sources[side].disconnect();
    });
    sources = null;
    playing = false;
  }

  function play() {
    if (!ready || playing || failed) {
      return;
    }
    var resumed = ctx.state === "running" ? Promise.resolve() : ctx.resume();
    startSources(startOffset);
    logEvent("play");
    render();
    resumed.then(render, function () {
      stopSources();
      logEvent("pause");
      setStatus(gettext("Your browser blocked playback. Press Play again."));
      render();
    });
  }

  function pause() {
    if (playing) {
      stopSources();
      logEvent("pause");
      render();
    }
  }

  function toggle() {
    if (playing) {
      pause();
    } else {
      play();
    }
  }

  function select(side) {
    if (!ready || side === active || SIDES.indexOf(side) < 0) {
      return;
    }
    active = side;
    logEvent("switch");
    var now = ctx.currentTime;
    SIDES.forEach(function (each) {
      var gain = gains[each].gain;
      gain.cancelScheduledValues(now);
      gain.setValueAtTime(gain.value, now);
      gain.linearRampToValueAtTime(each === side ? 1 : 0, now + SWITCH_RAMP_S);
    });
    render();
  }

  function seekTo(fraction) {
    if (!ready) {
      return;
    }
    var offset = Math.min(Math.max(fraction, 0), 0.999) * loopLength;
    if (playing) {
      stopSources();
      startSources(offset);
    } else {
      startOffset = offset;
    }
    logEvent("seek");
  }

  function seconds(value) {
    var whole = Math.abs(required - Math.round(required)) < 1e-9;
    return whole ? String(Math.floor(value + 1e-9)) : (Math.floor(value * 10 + 1e-9) / 10).toFixed(1);
  }

  function allHeard() {
    return SIDES.every(function (side) {
      return (heard.distinct[side] || 0) >= needed();
    });
  }

  function checked(name) {
    var input = el.form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function ranking() {
    var order = [];
    ["pick1", "pick2", "pick3"].forEach(function (name) {
      var field = el.form.querySelector('[name="' + name + '"]');
      var value = field && field.tagName === "SELECT" ? field.value : checked(name);
      if (value) {
        order.push(Number(value));
      }
    });
    return order;
  }

  function complete() {
    if (kind === "pool") {
      var order = ranking();
      var distinct = order.filter(function (value, index) {
        return order.indexOf(value) === index;
      });
      return checked("pick1") !== null && distinct.length === order.length &&
        (!window.earshotQuestions || window.earshotQuestions.complete(el.form));
    }
    var guessAsked = !!el.form.querySelector('input[name="guess_kind"]');
    return (!guessAsked || checked("guess_kind") !== null) && window.earshotQuestions.complete(el.form);
  }

  function render() {
    accrue();
    SIDES.forEach(function (side) {
      if (!el.side[side]) {
        return;
      }
      var isActive = side === active;
      el.side[side].classList.toggle("is-active", isActive);
      el.side[side].classList.toggle("is-playing", isActive && playing);
      el.side[side].setAttribute("aria-pressed", isActive ? "true" : "false");
      var distinct = heard.distinct[side] || 0;
      var share = needed() > 0 ? Math.min(distinct / needed(), 1) : 1;
      el.meter[side].style.width = (share * 100).toFixed(1) + "%";
      var done = distinct >= needed();
      el.side[side].classList.toggle("is-heard", done);
      el.heard[side].textContent = done
        ? gettext("heard ✓")
        : interpolate(
            gettext("%(heard)s of %(required)s s"),
            { heard: seconds(Math.min(distinct, needed())), required: seconds(needed()) },
            true
          );
    });
    el.play.setAttribute("aria-pressed", playing ? "true" : "false");
    el.play.classList.toggle("is-playing", playing);
    el.playLabel.textContent = playing ? gettext("Pause") : gettext("Play");
    if (ready && !seeking && loopLength > 0) {
      el.seek.value = String(Math.round((position() / loopLength) * 1000));
    }
    if (!unlocked && ready && allHeard()) {
      unlocked = true;
      el.questions.disabled = false;
      el.lockedNote.hidden = true;
      el.form.classList.add("is-unlocked");
    }
    if (ready && !failed) {
      if (playing) {
        setStatus(unlocked ? gettext("You can answer now, or keep listening as long as you like.") : gettext("Playing."));
      } else if (startOffset > 0 || log.length > 0) {
        setStatus(gettext("Paused."));
      }
    }
    el.submit.disabled = !(unlocked && complete()) || submitting;
  }

  function showError(text) {
    el.error.textContent = text;
    el.error.hidden = false;
  }

  function submit() {
    if (submitting) {
      return;
    }
    if (!unlocked) {
      showError(gettext("Listen to every track long enough first; the questions unlock then."));
      return;
    }
    if (!complete()) {
      showError(gettext("Please answer every question before submitting."));
      return;
    }
    var events = log.concat([stamp("submit")]);
    var sent = summarize(events, loopLength);
    var answer = { choice: "", listen_a_s: 0, listen_b_s: 0, listening: { loop_s: loopLength, events: events } };
    if (window.earshotQuestions) {
      Object.assign(answer, window.earshotQuestions.collect(el.form));
    }
    if (kind === "pool") {
      answer.ranking = ranking();
      answer.listen_pool_s = SIDES.map(function (side) {
        return Math.round(sent.played[side] * 100) / 100;
      });
    } else {
      answer.listen_a_s = Math.round(sent.played.a * 100) / 100;
      if (el.form.querySelector('input[name="guess_kind"]')) {
        answer.guess_kind = checked("guess_kind");
        answer.guess_confidence = Number(byId("guess-confidence").value);
      }
    }
    submitting = true;
    el.error.hidden = true;
    render();
    fetch(answerUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": el.form.querySelector("input[name=csrfmiddlewaretoken]").value,
      },
      body: JSON.stringify(answer),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (payload) {
            return { status: response.status, ok: response.ok, payload: payload };
          });
      })
      .then(
        function (result) {
          if (result.ok && result.payload.stored && result.payload.next) {
            pause();
            setStatus(gettext("Saved. Loading the next question…"));
            window.location.href = result.payload.next;
            return;
          }
          submitting = false;
          var detail = result.payload.detail || gettext("The server could not store your answer. Please try again.");
          showError(detail.charAt(0).toUpperCase() + detail.slice(1) + ".");
          render();
        },
        function () {
          submitting = false;
          showError(gettext("Could not reach the server, so your answer is not saved yet. Check your connection and press Submit again."));
          render();
        }
      );
  }

  el.play.addEventListener("click", toggle);
  SIDES.forEach(function (side) {
    if (el.side[side]) {
      el.side[side].addEventListener("click", function () {
        select(side);
      });
    }
  });
  el.seek.addEventListener("pointerdown", function () {
    seeking = true;
  });
  el.seek.addEventListener("input", function () {
    seekTo(Number(el.seek.value) / 1000);
  });
  el.seek.addEventListener("change", function () {
    seeking = false;
    render();
  });
  var confidence = byId("guess-confidence");
  if (confidence) {
    confidence.addEventListener("input", function () {
      byId("guess-confidence-value").textContent = confidence.value + " %";
    });
  }
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
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) {
      return;
    }
    var target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && target.type !== "radio") {
      return;
    }
    if (event.key === " ") {
      event.preventDefault();
      toggle();
    } else if (/^[1-9]$/.test(event.key) && kind === "pool") {
      select(LETTERS.charAt(Number(event.key) - 1));
    }
  });

  window.setInterval(render, 100);

  // Read-only status for tests and support: no URLs, nothing that tells a system.
  window.earshotPlayer = Object.freeze({
    state: function () {
      accrue();
      return {
        ready: ready,
        contextState: ctx ? ctx.state : "none",
        currentTime: ctx ? ctx.currentTime : 0,
        playing: playing,
        active: active,
        tracks: SIDES.length,
        heard: SIDES.map(function (side) {
          return heard.distinct[side] || 0;
        }),
        switches: heard.switches,
        events: log.length,
        required: required,
        unlocked: unlocked,
      };
    },
  });

  load();
})();
