// The focal point box (templates/renditions/focal.html) and a post's crops per network
// (templates/renditions/_crop.html): a tap or a click on the picture puts the mark there and
// saves; the arrow keys move it (Shift: finer) and Enter saves. The fields hold percentages of
// the picture as shown; the server checks them (422 when out of range). A crop's frame (what the
// network keeps, `data-frame-w`/`-h` of the picture) follows the mark as the server places it:
// centred on the point, pushed back inside the picture at its edges. A video's shape is saved
// with the form's button (choosing one with the arrow keys must not re-encode the video at each).
(function () {
  "use strict";

  // After a swap, the focus goes back where it was: {key: the box, control: a selector in it}.
  var refocus = null;

  function clamp(value) {
    return Math.min(100, Math.max(0, Math.round(value * 10) / 10));
  }

  function place(form, x, y) {
    var picture = form.querySelector("[data-focal-picture]");
    var mark = form.querySelector("[data-focal-mark]");
    form.querySelector("[data-focal-x]").value = String(x);
    form.querySelector("[data-focal-y]").value = String(y);
    mark.style.left = x + "%";
    mark.style.top = y + "%";
    mark.hidden = false;
    var frame = form.querySelector("[data-crop-frame]");
    var w = Number(picture.dataset.frameW), h = Number(picture.dataset.frameH);
    if (frame && w > 0 && h > 0) {
      frame.style.left = Math.min(Math.max(x / 100 - w / 2, 0), 1 - w) * 100 + "%";
      frame.style.top = Math.min(Math.max(y / 100 - h / 2, 0), 1 - h) * 100 + "%";
      frame.style.width = w * 100 + "%";
      frame.style.height = h * 100 + "%";
      frame.hidden = false;
    }
  }

  function keyOf(form) {
    return form.dataset.focalKey || "";
  }

  function save(form) {
    delete form.dataset.focalDirty;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function setUp(form) {
    if (form.dataset.focalReady) return;
    form.dataset.focalReady = "1";
    var picture = form.querySelector("[data-focal-picture]");
    if (!picture) return;
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
        refocus = {key: keyOf(form), control: "[data-focal-picture]"};
        save(form);
        return;
      }
      var move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      form.dataset.focalDirty = "1";
      place(form, clamp(Number(form.querySelector("[data-focal-x]").value) + move[0]),
            clamp(Number(form.querySelector("[data-focal-y]").value) + move[1]));
    });
  }

  function setUpAll() {
    document.querySelectorAll("[data-focal-form]").forEach(setUp);
    if (refocus === null) return;
    var wanted = refocus;
    refocus = null;
    var form = wanted.key ? document.querySelector('[data-focal-form][data-focal-key="' + wanted.key + '"]')
                          : document.querySelector("[data-focal-form]");
    if (!form) return;
    var control = form.querySelector(wanted.control) || form.querySelector("[data-focal-picture]");
    if (control) control.focus();
  }

  // A box that polls while its rendition is being made must not wipe a point being moved with
  // the keyboard and not saved yet; once saved, the focus comes back to the new box's picture.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (event.detail.requestConfig && event.detail.requestConfig.verb === "get" && elt.querySelector &&
        elt.querySelector("[data-focal-form][data-focal-dirty]")) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var form = active && active.closest && active.closest("[data-focal-form]");
    if (form && event.detail.target && event.detail.target.contains(form) && refocus === null) {
      var control = active.hasAttribute("data-focal-picture") ? "[data-focal-picture]"
        : active.name ? '[name="' + active.name + '"]' + (active.value ? '[value="' + active.value + '"]' : "") : "";
      refocus = {key: keyOf(form), control: control || "[data-focal-picture]"};
    }
  });

  document.addEventListener("DOMContentLoaded", setUpAll);
  document.addEventListener("htmx:afterSettle", setUpAll);
  setUpAll();
})();
