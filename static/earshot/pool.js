/* Earshot: the single-track and pool trial pages (templates/listener/trial_single.html,
 * trial_pool.html). The A/B player of listener.js for N tracks (N = 1 for a single track, 3-10
 * for a pool), on the same clock (webAudio.syncClock in static/earshot/webaudio.js): every
 * track is fetched and decoded up front, all start on the same instant of the audio clock,
 * each through its own GainNode, and switching only moves the gains, so it is instant and
 * keeps the moment in the music.
 *
 * Every play, pause, switch and seek goes into the listening log sent with the answer (the
 * format of evaluation/listening_log.py; a pool's track n is side "a", "b", ... by screen
 * position). The questions unlock once every track has been heard for the required time,
 * the rule the server applies (services/listening_evidence.py, heard_by_side), computed by
 * webAudio.heardBySide.
 *
 * Nothing here, in the page or in window.earshotPlayer tells which system a track is.
 */
(function () {
  "use strict";

  // Django's JavaScript catalogue (/i18n/js/) translates; without it the page stays English.
  var gettext = window.gettext || function (s) { return s; };
  var interpolate =
    window.interpolate ||
    function (fmt, obj) {
      return fmt.replace(/%\((\w+)\)s/g, function (match, name) {
        return String(obj[name]);
      });
    };
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

  var webAudio = window.earshotWebAudio;
  // The tracks on one audio clock, and the listening log (static/earshot/webaudio.js).
  var audio = webAudio.syncClock({
    sides: SIDES,
    maxEvents: MAX_EVENTS,
    onInterrupt: function () {
      render();
    },
  });
  var ready = false;
  var failed = false;
  var heard = { played: {}, distinct: {}, switches: 0 };
  var unlocked = false;
  var submitting = false;
  var seeking = false;

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
    if (!audio.ctx) {
      fail(gettext("Your browser cannot play this test (no Web Audio). Please use a recent Chrome, Firefox or Safari."));
      return;
    }
    audio.load(urls).then(
      function () {
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

  // evaluation/listening_log.py heard_by_side, by webAudio.heardBySide.
  function summarize(events, loopS) {
    var by = webAudio.heardBySide(events, loopS, SIDES);
    var distinct = {};
    SIDES.forEach(function (side) {
      distinct[side] = webAudio.intervalsLength(by.heard[side]);
    });
    return { played: by.played, distinct: distinct, switches: by.switches };
  }

  // (End of the rule the listening-log test compares with the server's.)

  function accrue() {
    if (ready) {
      heard = summarize(audio.logUntilNow("submit"), audio.loopLength);
    }
  }

  function needed() {
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
    audio.moveTo(Math.min(Math.max(fraction, 0), 0.999) * audio.loopLength);
    audio.logEvent("seek");
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
      var isActive = side === audio.active;
      el.side[side].classList.toggle("is-active", isActive);
      el.side[side].classList.toggle("is-playing", isActive && audio.playing);
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
    el.play.setAttribute("aria-pressed", audio.playing ? "true" : "false");
    el.play.classList.toggle("is-playing", audio.playing);
    el.playLabel.textContent = audio.playing ? gettext("Pause") : gettext("Play");
    if (ready && !seeking && audio.loopLength > 0) {
      el.seek.value = String(Math.round((audio.position() / audio.loopLength) * 1000));
    }
    if (!unlocked && ready && allHeard()) {
      unlocked = true;
      el.questions.disabled = false;
      el.lockedNote.hidden = true;
      el.form.classList.add("is-unlocked");
    }
    if (ready && !failed) {
      if (audio.playing) {
        setStatus(unlocked ? gettext("You can answer now, or keep listening as long as you like.") : gettext("Playing."));
      } else if (audio.startOffset > 0 || audio.log.length > 0) {
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
    var events = audio.logUntilNow("submit");
    var sent = summarize(events, audio.loopLength);
    var answer = { choice: "", listen_a_s: 0, listen_b_s: 0, listening: { loop_s: audio.loopLength, events: events } };
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
    webAudio
      .postAnswer(answerUrl, el.form, answer)
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
        contextState: audio.ctx ? audio.ctx.state : "none",
        currentTime: audio.ctx ? audio.ctx.currentTime : 0,
        playing: audio.playing,
        active: audio.active,
        tracks: SIDES.length,
        heard: SIDES.map(function (side) {
          return heard.distinct[side] || 0;
        }),
        switches: heard.switches,
        events: audio.log.length,
        required: required,
        unlocked: unlocked,
      };
    },
  });

  load();
})();
