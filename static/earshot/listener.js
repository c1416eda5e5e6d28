/* Earshot listener: the blind A/B trial page.
 *
 * Both excerpts are fetched and decoded up front, then started at the same instant on the
 * audio clock, each through its own GainNode. Switching between A and B only moves the two
 * gains, so the switch is instant and lands on the same moment in the music. The excerpts
 * loop until paused.
 *
 * Heard time is measured on the audio clock (AudioContext.currentTime), and only while the
 * sources are playing, for the side that is audible: a suspended or interrupted context stops
 * the clock and so stops the count. The server checks the totals again.
 *
 * Nothing in this file, the page or window.earshotPlayer tells A from B beyond the letter.
 */
(function () {
  "use strict";

  // A 5 ms crossfade on switch: too short to hear as a fade, long enough to avoid a click.
  var SWITCH_RAMP_S = 0.005;
  // Both sources are scheduled slightly ahead so they start on exactly the same sample.
  var START_LEAD_S = 0.04;
  var SIDES = ["a", "b"];

  var config = document.getElementById("earshot-trial");
  if (!config) {
    return;
  }
  var endpoints = { a: config.dataset.a, b: config.dataset.b, answer: config.dataset.answer };
  var required = Math.max(0, parseFloat(config.dataset.required) || 0);
  // The endpoints live in this closure only; drop them from the live DOM.
  config.parentNode.removeChild(config);

  var el = {
    player: document.getElementById("player"),
    status: document.getElementById("player-status"),
    play: document.getElementById("play"),
    playLabel: document.querySelector("#play .play-label"),
    seek: document.getElementById("seek"),
    side: { a: document.getElementById("side-a"), b: document.getElementById("side-b") },
    meter: { a: document.getElementById("meter-a"), b: document.getElementById("meter-b") },
    heard: { a: document.getElementById("heard-a"), b: document.getElementById("heard-b") },
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

  var ctx = null;
  var buffers = { a: null, b: null };
  var gains = { a: null, b: null };
  var sources = null;
  var loopLength = 0;
  var ready = false;
  var failed = false;
  var playing = false;
  var active = "a";
  var heard = { a: 0, b: 0 };
  var startedAt = 0; // audio-clock time at which startOffset plays
  var startOffset = 0; // seconds into the excerpt
  var lastAccrual = 0;
  var unlocked = false;
  var submitting = false;
  var seeking = false;

  /* ---------- audio ---------- */

  var webAudio = window.earshotWebAudio;
  var fetchBytes = webAudio.fetchBytes;

  function decode(bytes) {
    return webAudio.decode(ctx, bytes);
  }

  function load() {
    ctx = webAudio.createContext();
    if (!ctx) {
      fail("Your browser cannot play this test (no Web Audio). Please use a recent Chrome, Firefox or Safari.");
      return;
    }
    SIDES.forEach(function (side) {
      gains[side] = ctx.createGain();
      gains[side].gain.value = side === active ? 1 : 0;
      gains[side].connect(ctx.destination);
    });
    Promise.all(
      SIDES.map(function (side) {
        return fetchBytes(endpoints[side]).then(decode);
      })
    ).then(
      function (decoded) {
        buffers.a = decoded[0];
        buffers.b = decoded[1];
        loopLength = Math.min(buffers.a.duration, buffers.b.duration);
        ready = true;
        el.player.dataset.state = "ready";
        el.play.disabled = false;
        el.seek.disabled = false;
        SIDES.forEach(function (side) {
          el.side[side].disabled = false;
        });
        setStatus("Ready. Press Play, then switch between A and B.");
        render();
      },
      function () {
        fail("The audio could not be loaded. Check your connection and reload the page.");
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
    reload.textContent = "Reload";
    reload.addEventListener("click", function () {
      window.location.reload();
    });
    el.status.appendChild(reload);
  }

  function position() {
    if (!playing || !ctx) {
      return startOffset;
    }
    var elapsed = Math.max(0, ctx.currentTime - startedAt);
    return (startOffset + elapsed) % loopLength;
  }

  function accrue() {
    if (!playing || !ctx) {
      return;
    }
    var now = ctx.currentTime;
    if (now > lastAccrual) {
      heard[active] += now - lastAccrual;
      lastAccrual = now;
    }
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
    lastAccrual = when;
    playing = true;
  }

  function stopSources() {
    if (!sources) {
      return;
    }
    accrue();
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
    // resume() is called inside the user's gesture, as autoplay policies require.
    var resumed = ctx.state === "running" ? Promise.resolve() : ctx.resume();
    startSources(startOffset);
    render();
    resumed.then(render, function () {
      stopSources();
      setStatus("Your browser blocked playback. Press Play again.");
      render();
    });
  }

  function pause() {
    if (!playing) {
      return;
    }
    stopSources();
    render();
  }

  function toggle() {
    if (playing) {
      pause();
    } else {
      play();
    }
  }

  function select(side) {
    if (!ready || side === active) {
      return;
    }
    accrue();
    active = side;
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
    return heard[side] >= required;
  }

  function selected(name) {
    var input = el.form.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : null;
  }

  function complete() {
    return (
      selected("choice") !== null &&
      (!asks.liked || (selected("liked_a") !== null && selected("liked_b") !== null)) &&
      (!asks.ai || selected("guess_ai") !== null)
    );
  }

  function render() {
    accrue();
    SIDES.forEach(function (side) {
      var isActive = side === active;
      el.side[side].classList.toggle("is-active", isActive);
      el.side[side].classList.toggle("is-playing", isActive && playing);
      el.side[side].setAttribute("aria-pressed", isActive ? "true" : "false");
      var share = required > 0 ? Math.min(heard[side] / required, 1) : 1;
      el.meter[side].style.width = (share * 100).toFixed(1) + "%";
      var done = heardEnough(side);
      el.side[side].classList.toggle("is-heard", done);
      el.heard[side].textContent = done
        ? "heard ✓"
        : seconds(Math.min(heard[side], required)) + " of " + seconds(required) + " s";
    });
    el.play.setAttribute("aria-pressed", playing ? "true" : "false");
    el.play.classList.toggle("is-playing", playing);
    el.playLabel.textContent = playing ? "Pause" : "Play";
    if (ready && !seeking && loopLength > 0) {
      el.seek.value = String(Math.round((position() / loopLength) * 1000));
    }
    if (!unlocked && heardEnough("a") && heardEnough("b")) {
      unlocked = true;
      el.questions.disabled = false;
      el.lockedNote.hidden = true;
      el.form.classList.add("is-unlocked");
    }
    if (ready && !failed) {
      if (playing) {
        setStatus(
          unlocked
            ? "You can answer now, or keep listening as long as you like."
            : "Playing. Switch between A and B at any time."
        );
      } else if (startOffset > 0 || heard.a > 0 || heard.b > 0) {
        setStatus("Paused.");
      }
    }
    el.submit.disabled = !(unlocked && complete()) || submitting;
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

  function showError(text, offerReload) {
    el.error.textContent = text;
    if (offerReload) {
      var reload = document.createElement("button");
      reload.type = "button";
      reload.className = "link-button";
      reload.textContent = "Reload the page";
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
      showError("Listen to both A and B long enough first; the questions unlock then.", false);
      return;
    }
    if (!complete()) {
      showError("Please answer every question before submitting.", false);
      return;
    }
    accrue();
    var answer = {
      choice: selected("choice"),
      liked_a: asks.liked ? liked("liked_a") : null,
      liked_b: asks.liked ? liked("liked_b") : null,
      guess_ai: asks.ai ? selected("guess_ai") : "",
      listen_a_s: Math.round(heard.a * 100) / 100,
      listen_b_s: Math.round(heard.b * 100) / 100,
    };
    submitting = true;
    el.error.hidden = true;
    el.submit.classList.add("is-busy");
    render();
    fetch(endpoints.answer, {
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
            setStatus("Saved. Loading the next question…");
            window.location.href = result.payload.next;
            return;
          }
          submitting = false;
          el.submit.classList.remove("is-busy");
          var detail =
            result.payload.detail ||
            "The server could not store your answer (error " + result.status + "). Please try again.";
          var stale =
            result.status === 403 ||
            result.status === 409 ||
            result.payload.error === "foreign_trial";
          showError(detail.charAt(0).toUpperCase() + detail.slice(1) + ".", stale);
          render();
        },
        function () {
          submitting = false;
          el.submit.classList.remove("is-busy");
          showError(
            "Could not reach the server, so your answer is not saved yet. Check your connection and press Submit again.",
            false
          );
          render();
        }
      );
  }

  /* ---------- events ---------- */

  el.play.addEventListener("click", toggle);
  SIDES.forEach(function (side) {
    el.side[side].addEventListener("click", function () {
      select(side);
    });
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
  el.form.addEventListener("change", render);
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

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (target && target.classList && target.classList.contains("link-button")) {
      return;
    }
    if (target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    if (target && target.tagName === "INPUT" && /^(text|number|email|search)$/.test(target.type)) {
      return;
    }
    var key = event.key && event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var action = SHORTCUTS[key];
    if (!action) {
      return;
    }
    // Space and Enter would also press whatever button has focus: the shortcut wins.
    event.preventDefault();
    if (!event.repeat) {
      action();
    }
  });
  document.addEventListener("keyup", function (event) {
    if (event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
    }
  });

  window.setInterval(render, 100);

  // Read-only status for tests and support: no URLs, nothing that tells A from B.
  window.earshotPlayer = Object.freeze({
    state: function () {
      accrue();
      return {
        ready: ready,
        contextState: ctx ? ctx.state : "none",
        currentTime: ctx ? ctx.currentTime : 0,
        playing: playing,
        active: active,
        heardA: heard.a,
        heardB: heard.b,
        required: required,
        unlocked: unlocked,
        position: loopLength > 0 ? position() / loopLength : 0,
      };
    },
  });

  load();
})();
