// The researcher's live dashboard: reload every 30 s while the tab is visible.
(function () {
  "use strict";
  var PERIOD_MS = 30000;
  window.setInterval(function () {
    if (document.visibilityState === "visible") {
      window.location.reload();
    }
  }, PERIOD_MS);
})();
