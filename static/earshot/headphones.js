/* Earshot headphone check (Woods et al. 2017): play each sound once, then pick its quietest
 * tone. The page does not know the answers: it has one opaque URL per sound, and the form
 * is scored on the server.
 *
 * Each sound is fetched and decoded when its Play button is pressed and played through Web
 * Audio; one sound plays at a time, and a played sound's choices unlock.
 */
(function () {
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

  var config = document.getElementById("earshot-headphones");
  var form = document.getElementById("headphone-form");
  if (!config || !form) {
    return;
  }
  var urls = config.dataset.audio.split(" ").filter(Boolean);
  // The URLs live in this closure only; drop them from the live DOM.
  config.parentNode.removeChild(config);

  var buttons = Array.prototype.slice.call(form.querySelectorAll(".hp-play"));
  var items = form.querySelectorAll(".headphone-item");
  var status = document.getElementById("check-status");
  var submit = document.getElementById("check-submit");
  var ctx = null;
  var played = urls.map(function () {
    return false;
  });
  var playing = null;
  var failed = false;

  var webAudio = window.earshotWebAudio;

  function context() {
    ctx = ctx || webAudio.createContext();
    return ctx;
  }

  function radios(index) {
    return items[index].querySelectorAll("input[type=radio]");
  }

  function refresh() {
    buttons.forEach(function (button, index) {
      button.disabled = failed || played[index] || playing !== null;
      button.classList.toggle("is-playing", playing === index);
      button.querySelector(".play-label").textContent =
        playing === index ? gettext("Playing…") : played[index] ? gettext("Played") : gettext("Play");
    });
    var answered = urls.every(function (url, index) {
      return items[index].querySelector("input:checked") !== null;
    });
    submit.disabled = failed || playing !== null || !answered;
    // The server's "answer every sound" goes away once every sound has an answer.
    var error = document.getElementById("check-error");
    if (error && answered) {
      error.hidden = true;
    }
  }

  function play(index) {
    var audio = context();
    if (!audio) {
      status.textContent = gettext(
        "Your browser cannot play this test (no Web Audio). Please use a recent Chrome, Firefox or Safari."
      );
      failed = true;
      refresh();
      return;
    }
    playing = index;
    status.textContent = interpolate(gettext("Playing sound %(number)s…"), { number: index + 1 }, true);
    refresh();
    audio
      .resume()
      .then(function () {
        return webAudio.fetchBytes(urls[index]);
      })
      .then(function (bytes) {
        return webAudio.decode(audio, bytes);
      })
      .then(function (buffer) {
        var source = audio.createBufferSource();
        source.buffer = buffer;
        source.connect(audio.destination);
        source.onended = function () {
          played[index] = true;
          playing = null;
          Array.prototype.forEach.call(radios(index), function (input) {
            input.disabled = false;
          });
          status.textContent = interpolate(
            gettext("Which tone of sound %(number)s was the quietest?"),
            { number: index + 1 },
            true
          );
          refresh();
          radios(index)[0].focus();
        };
        source.start();
      })
      .catch(function () {
        // A sound that could not be loaded may be tried again: it was never heard.
        playing = null;
        status.textContent = interpolate(
          gettext("Sound %(number)s could not be played. Please check your connection and press Play again."),
          { number: index + 1 },
          true
        );
        refresh();
      });
  }

  buttons.forEach(function (button, index) {
    button.addEventListener("click", function () {
      if (!played[index] && playing === null) {
        play(index);
      }
    });
  });
  form.addEventListener("change", refresh);
  form.addEventListener("submit", function (event) {
    if (submit.disabled) {
      event.preventDefault();
      return;
    }
    submit.disabled = true;
  });

  // For tests and support: what the page knows (never the answers, which it does not have).
  window.earshotHeadphones = {
    state: function () {
      return {
        sounds: urls.length,
        played: played.slice(),
        playing: playing,
        contextState: ctx ? ctx.state : "none",
      };
    },
  };
  refresh();
})();
