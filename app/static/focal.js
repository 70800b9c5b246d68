// The focal point box (templates/renditions/focal.html): a tap or a click on the picture puts
// the mark there and saves; the arrow keys move it (Shift: finer) and Enter saves. The fields
// hold percentages of the picture as shown; the server checks them (422 when out of range).
(function () {
  "use strict";

  var refocus = false;  // a keyboard save puts the focus back on the new box's picture

  function clamp(value) {
    return Math.min(100, Math.max(0, Math.round(value * 10) / 10));
  }

  function place(box, x, y) {
    var mark = box.querySelector("[data-focal-mark]");
    box.querySelector("[data-focal-x]").value = String(x);
    box.querySelector("[data-focal-y]").value = String(y);
    mark.style.left = x + "%";
    mark.style.top = y + "%";
    mark.hidden = false;
  }

  function save(form) {
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function setUp(form) {
    if (form.dataset.focalReady) return;
    form.dataset.focalReady = "1";
    var picture = form.querySelector("[data-focal-picture]");
    var x = Number(form.querySelector("[data-focal-x]").value);
    var y = Number(form.querySelector("[data-focal-y]").value);
    if (isFinite(x) && isFinite(y)) place(form, clamp(x), clamp(y));

    picture.addEventListener("click", function (event) {
      var image = picture.querySelector("img").getBoundingClientRect();
      if (!image.width || !image.height) return;
      place(form, clamp((event.clientX - image.left) / image.width * 100),
            clamp((event.clientY - image.top) / image.height * 100));
      save(form);
    });
    picture.addEventListener("keydown", function (event) {
      var step = event.shiftKey ? 1 : 5;
      var moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]};
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        refocus = true;
        save(form);
        return;
      }
      var move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      place(form, clamp(Number(form.querySelector("[data-focal-x]").value) + move[0]),
            clamp(Number(form.querySelector("[data-focal-y]").value) + move[1]));
    });
  }

  function setUpAll() {
    document.querySelectorAll("[data-focal-form]").forEach(setUp);
    var picture = document.querySelector("[data-focal-picture]");
    if (refocus && picture) {
      refocus = false;
      picture.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", setUpAll);
  document.addEventListener("htmx:afterSettle", setUpAll);
  setUpAll();
})();
