// "Insert…" in the post form (templates/campaigns/_snippets.html): puts the chosen hashtag group
// or text snippet at the cursor of the message field that had the focus last (the base message
// or a network's version), then fires an input event so the server's counters refresh. No
// counting here: the server counts (app/text_count.py).
(function () {
  "use strict";
  if (window.snippetPicker) return;
  window.snippetPicker = true;

  var lastField = new WeakMap(); // form -> the message field edited last

  function messageField(picker) {
    var form = picker.closest("form");
    var field = form && lastField.get(form);
    if (field && field.isConnected) return field;
    return form ? form.querySelector("textarea[name='message']") : null;
  }

  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field.tagName !== "TEXTAREA" || !field.form) return;
    lastField.set(field.form, field);
  });

  function insert(field, text) {
    var start = field.selectionStart, end = field.selectionEnd, value = field.value;
    if (start === undefined || start === null) { start = end = value.length; }
    // A space apart from the words around it, so "#Salon" does not stick to the last word.
    if (start > 0 && !/\s$/.test(value.slice(0, start))) text = " " + text;
    if (end < value.length && !/^\s/.test(value.slice(end))) text = text + " ";
    field.focus();
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new Event("input", {bubbles: true}));
  }

  document.addEventListener("click", function (event) {
    var choice = event.target.closest(".snippet-choice");
    if (!choice) return;
    var picker = choice.closest(".snippet-picker");
    var field = messageField(picker);
    if (!field) return;
    picker.open = false;
    insert(field, choice.dataset.insert);
  });

  document.addEventListener("toggle", function (event) {
    var picker = event.target;
    if (!picker.classList || !picker.classList.contains("snippet-picker") || !picker.open) return;
    var filter = picker.querySelector("input[type='search']");
    if (filter) filter.focus();
  }, true);

  document.addEventListener("keydown", function (event) {
    var picker = event.target.closest && event.target.closest(".snippet-picker");
    if (!picker || !picker.open) return;
    if (event.key === "Escape") {
      event.preventDefault();
      picker.open = false;
      picker.querySelector("summary").focus();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    // Arrows move between the filter and the choices.
    var stops = [picker.querySelector("input[type='search']")].concat(
      Array.prototype.slice.call(picker.querySelectorAll(".snippet-choice")));
    var at = stops.indexOf(document.activeElement);
    var next = stops[Math.max(0, Math.min(stops.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
    if (next) { event.preventDefault(); next.focus(); }
  });

  // Enter in the filter takes the first choice.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches || !event.target.matches(".snippet-picker input[type='search']")) return;
    event.preventDefault();
    var first = event.target.closest(".snippet-picker").querySelector(".snippet-choice");
    if (first) first.click();
  });
})();
