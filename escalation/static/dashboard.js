// Keeps the queue current: fetch its lists every few seconds and swap them
// in when they changed, keeping keyboard focus where it was.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  var status = document.getElementById("queue-status");
  if (!queue) { return; }
  var url = queue.dataset.url;
  var period = 1000 * Number(queue.dataset.seconds || 2);
  var shown = queue.innerHTML;

  function say(text) { if (status) { status.textContent = text; } }

  function swap(html) {
    var focused = document.activeElement;
    var focusId = focused && queue.contains(focused) ? focused.id : "";
    queue.innerHTML = html;
    shown = html;
    if (focusId && document.getElementById(focusId)) {
      document.getElementById(focusId).focus();
    }
    say("Queue updated at " + new Date().toLocaleTimeString("nl-NL") + ".");
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) {
          window.location.reload();  // the session ended: show the login page
          return null;
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) { if (html !== null && html !== shown) { swap(html); } })
      .catch(function () { say("Connection lost; trying again."); })
      .then(function () { window.setTimeout(refresh, period); });
  }

  window.setTimeout(refresh, period);
})();
