// The kiosk returns to its welcome screen after data-reset-after seconds without a touch
// (or a key), keeping what was answered as a partial rating. Without JavaScript a
// <meta http-equiv="refresh"> in <noscript> does the same after the last answer.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-reset-after"), 10);
  var url = body.getAttribute("data-reset-url");
  if (!seconds || !url) { return; }
  var timer = null;
  function arm() {
    if (timer !== null) { window.clearTimeout(timer); }
    timer = window.setTimeout(function () { window.location.assign(url); }, seconds * 1000);
  }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();
}());
