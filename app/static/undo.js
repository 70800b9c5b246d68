// The undo bar after "Approve" (templates/reviews/_undo.html): counts the seconds down and, when
// they are over, says so in place of the button. The server checks the window on its own.
(function () {
  "use strict";

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-undo-remaining]").forEach(function (bar) {
      if (!bar.dataset.undoEnds) {
        bar.dataset.undoEnds = String(now + Number(bar.dataset.undoRemaining) * 1000);
      }
      var left = Math.max(0, Math.ceil((Number(bar.dataset.undoEnds) - now) / 1000));
      var seconds = bar.querySelector("[data-undo-seconds]");
      if (seconds && seconds.textContent !== String(left)) seconds.textContent = String(left);
      if (left > 0) return;
      var over = document.createElement("p");
      over.className = "muted";
      over.textContent = bar.dataset.undoDone;
      bar.removeAttribute("data-undo-remaining");
      bar.replaceChildren(over);
    });
  }

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 250);
})();
