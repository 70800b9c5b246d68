// "Insert…" in the post form (templates/campaigns/_snippets.html): puts the chosen hashtag group
// or text snippet at the cursor of the message field that had the focus last (the base message
// or a network's version), then fires an input event so the server's counters refresh. No
// counting here: the server counts (app/text_count.py). The box follows the field being edited:
// it moves under a network's text when that text gets the focus, and goes back to its place
// before htmx replaces the part of the page it sits in.
(function () {
  "use strict";
  if (window.snippetPicker) return;
  window.snippetPicker = true;

  var MESSAGE = "textarea[name='message'], textarea[data-version-message], textarea[data-snippet-target]";
  var lastField = new WeakMap(); // form -> the message field edited last
  var homes = new WeakMap();     // picker -> {parent, next}: where the page put it

  function messageField(picker) {
    var form = picker.closest("form");
    var field = form && lastField.get(form);
    // A network's text that follows the base is read-only: the base message takes the insertion.
    if (field && field.isConnected && !field.readOnly && !field.disabled) return field;
    return form ? form.querySelector("textarea[name='message']") : null;
  }

  function goHome(picker) {
    var home = homes.get(picker);
    if (!home || !home.parent.isConnected || picker.parentNode === home.parent) return;
    home.parent.insertBefore(picker, home.next && home.next.parentNode === home.parent ? home.next : null);
  }

  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches(MESSAGE) || !field.form || field.readOnly || field.disabled) return;
    lastField.set(field.form, field);
    var picker = field.form.querySelector(".snippet-picker");
    if (!picker || picker.previousElementSibling === field) return;
    if (!homes.has(picker)) homes.set(picker, {parent: picker.parentNode, next: picker.nextSibling});
    if (field.name === "message") { goHome(picker); return; }
    picker.open = false;
    field.insertAdjacentElement("afterend", picker);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    document.querySelectorAll(".snippet-picker").forEach(function (picker) {
      var home = homes.get(picker);
      if (home && target.contains(picker) && !target.contains(home.parent)) goHome(picker);
    });
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
    var choice = event.target.closest && event.target.closest(".snippet-choice");
    if (!choice) return;
    var picker = choice.closest(".snippet-picker");
    var field = messageField(picker);
    if (!field) return;
    picker.open = false;
    insert(field, choice.dataset.insert);
  });

  function takeFirst(picker) {
    var list = picker.querySelector(".snippet-choices");
    var filter = picker.querySelector("input[type='search']");
    if (!list || !filter || (list.dataset.q || "") !== filter.value.trim()) return false;
    delete picker.dataset.takeFirst;
    var first = list.querySelector(".snippet-choice");
    if (first) first.click();
    return true;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var picker = event.target.closest && event.target.closest(".snippet-picker");
    if (picker && picker.dataset.takeFirst) takeFirst(picker);
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
    if (event.key === "Enter" && event.target.matches("input[type='search']")) {
      // Enter in the filter takes the first choice of the list for what is typed (and never
      // submits the post): if that list is still on its way, once it arrives.
      event.preventDefault();
      if (!takeFirst(picker) && window.htmx) {
        picker.dataset.takeFirst = "1";
        window.htmx.trigger(event.target, "search");
      }
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    // The arrows move between the filter and the choices.
    var stops = [picker.querySelector("input[type='search']")].concat(
      Array.prototype.slice.call(picker.querySelectorAll(".snippet-choice")));
    var at = stops.indexOf(document.activeElement);
    var next = stops[Math.max(0, Math.min(stops.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
    if (next) { event.preventDefault(); next.focus(); }
  });
})();
