/* Earshot: the per-track questions of a trial page (templates/listener/_track_questions.html):
 * aspect preferences and ratings, 1-5 "how much do you like it?", playlist/release, "what is
 * weaker?" (shown once a track is liked) and "Do you know this piece?".
 *
 * Loaded before listener.js (A/B) and pool.js (single track); exposes
 * window.earshotQuestions = { complete(form), collect(form), refresh(form) }. It reads only
 * the form: nothing here knows which system a track is.
 */
(function () {
  "use strict";

  // A 1-5 rating counts as liked from this value (evaluation/services/responses.py).
  var LIKED_FROM_RATING = 4;

  function checked(form, name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function present(form, name) {
    return !!form.querySelector('input[name="' + name + '"]');
  }

  function sides(form) {
    var found = [];
    ["a", "b"].forEach(function (side) {
      if (
        form.querySelector('[data-side="' + side + '"]') ||
        present(form, "rating_" + side) ||
        present(form, "liked_" + side)
      ) {
        found.push(side);
      }
    });
    return found;
  }

  function aspects(form, mode) {
    var names = [];
    form.querySelectorAll('[data-aspect][data-mode="' + mode + '"]').forEach(function (node) {
      if (names.indexOf(node.dataset.aspect) < 0) {
        names.push(node.dataset.aspect);
      }
    });
    return names;
  }

  function liked(form, side) {
    var flag = checked(form, "liked_" + side);
    if (flag !== null) {
      return flag === "yes";
    }
    if (present(form, "liked_" + side)) {
      return false;
    }
    var rating = checked(form, "rating_" + side);
    return rating !== null && Number(rating) >= LIKED_FROM_RATING;
  }

  // The names of the radio groups that must be answered.
  function required(form) {
    var names = [];
    aspects(form, "preference").forEach(function (name) {
      names.push("aspect_" + name);
    });
    sides(form).forEach(function (side) {
      ["rating_", "playlist_", "release_"].forEach(function (prefix) {
        if (present(form, prefix + side)) {
          names.push(prefix + side);
        }
      });
      aspects(form, "rating").forEach(function (name) {
        names.push("score_" + name + "_" + side);
      });
    });
    if (present(form, "familiar")) {
      names.push("familiar");
    }
    return names;
  }

  function complete(form) {
    return required(form).every(function (name) {
      return checked(form, name) !== null;
    });
  }

  function refresh(form) {
    form.querySelectorAll("fieldset.weaker").forEach(function (box) {
      var show = liked(form, box.dataset.side);
      box.hidden = !show;
      if (!show) {
        box.querySelectorAll("input").forEach(function (input) {
          input.checked = false;
        });
      }
    });
  }

  function yesNo(form, name) {
    var value = checked(form, name);
    return value === null ? null : value === "yes";
  }

  function collect(form) {
    var answer = {};
    var trackSides = sides(form);
    trackSides.forEach(function (side) {
      if (present(form, "rating_" + side)) {
        answer["rating_" + side] = Number(checked(form, "rating_" + side));
      }
      if (present(form, "playlist_" + side)) {
        answer["playlist_" + side] = yesNo(form, "playlist_" + side);
        answer["release_" + side] = yesNo(form, "release_" + side);
      }
      if (present(form, "weaker_" + side)) {
        answer["weaker_" + side] = liked(form, side)
          ? Array.prototype.map.call(
              form.querySelectorAll('input[name="weaker_' + side + '"]:checked'),
              function (input) {
                return input.value;
              }
            )
          : [];
      }
    });
    var given = {};
    aspects(form, "preference").forEach(function (name) {
      given[name] = { choice: checked(form, "aspect_" + name) };
    });
    aspects(form, "rating").forEach(function (name) {
      given[name] = {};
      trackSides.forEach(function (side) {
        given[name][side] = Number(checked(form, "score_" + name + "_" + side));
      });
    });
    answer.aspects = given;
    if (present(form, "familiar")) {
      answer.familiar = checked(form, "familiar");
    }
    return answer;
  }

  window.earshotQuestions = Object.freeze({ complete: complete, collect: collect, refresh: refresh });
})();
