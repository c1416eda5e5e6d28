/* Earshot headphone check (Woods et al. 2017): play each sound once, then pick its quietest
 * tone. The page does not know the answers: it has one opaque URL per sound, and the form
 * is scored on the server.
 *
 * Each sound is fetched and decoded when its Play button is pressed and played through Web
 * Audio; one sound plays at a time, and a played sound's choices unlock.
 */
(function () {
  "use strict";

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
        playing === index ? "Playing…" : played[index] ? "Played" : "Play";
    });
    var answered = urls.every(function (url, index) {
      return items[index].querySelector("input:checked") !== null;
    });
    submit.disabled = failed || playing !== null || !answered;
  }

  function play(index) {
    var audio = context();
    if (!audio) {
      status.textContent = "Your browser cannot play this test (no Web Audio). Please use a recent Chrome, Firefox or Safari.";
      failed = true;
      refresh();
      return;
    }
    playing = index;
    status.textContent = "Playing sound " + (index + 1) + "…";
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
          status.textContent = "Which tone of sound " + (index + 1) + " was the quietest?";
          refresh();
          radios(index)[0].focus();
        };
        source.start();
      })
      .catch(function () {
        // A sound that could not be loaded may be tried again: it was never heard.
        playing = null;
        status.textContent = "Sound " + (index + 1) + " could not be played. Please check your connection and press Play again.";
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
