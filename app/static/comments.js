// @mention autocomplete in a post's conversation: typing "@pa" offers the people who may read
// the post (GET data-mentions?q=pa); a click, Enter or Tab inserts "@handle ". Without
// JavaScript the comment still works: a mention by name or e-mail local part notifies.
(function () {
  "use strict";
  var timer = null;

  function token(area) {
    var before = area.value.slice(0, area.selectionStart);
    var match = /(^|\s)@([\w.+-]{1,60})$/.exec(before);
    return match ? match[2] : null;
  }

  function list(area) {
    return document.getElementById(area.getAttribute("aria-controls"));
  }

  function close(area) {
    var box = list(area);
    if (box) { box.hidden = true; box.textContent = ""; }
    area.removeAttribute("aria-activedescendant");
  }

  function insert(area, handle) {
    var start = area.selectionStart, before = area.value.slice(0, start);
    var at = before.lastIndexOf("@");
    area.value = before.slice(0, at) + "@" + handle + " " + area.value.slice(start);
    var caret = at + handle.length + 2;
    area.setSelectionRange(caret, caret);
    close(area);
    area.focus();
  }

  function show(area, people) {
    var box = list(area);
    box.textContent = "";
    people.forEach(function (person, n) {
      var item = document.createElement("li");
      item.id = box.id + "-" + n;
      item.setAttribute("role", "option");
      item.dataset.handle = person.handle;
      item.textContent = person.name + " (@" + person.handle + ")";
      item.addEventListener("mousedown", function (event) { event.preventDefault(); insert(area, person.handle); });
      box.appendChild(item);
    });
    box.hidden = people.length === 0;
    if (people.length) { select(area, 0); }
  }

  function select(area, n) {
    var items = list(area).querySelectorAll("li");
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === n ? "true" : "false"); });
    if (items[n]) { area.setAttribute("aria-activedescendant", items[n].id); }
  }

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches("textarea[data-mentions]")) { return; }
    var word = token(area);
    clearTimeout(timer);
    if (!word) { close(area); return; }
    timer = setTimeout(function () {
      fetch(area.dataset.mentions + "?q=" + encodeURIComponent(word), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : {people: []}; })
        .then(function (data) { show(area, data.people || []); })
        .catch(function () { close(area); });
    }, 150);
  });

  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches("textarea[data-mentions]")) { return; }
    var box = list(area);
    if (!box || box.hidden) { return; }
    var items = Array.prototype.slice.call(box.querySelectorAll("li"));
    var current = items.findIndex(function (item) { return item.getAttribute("aria-selected") === "true"; });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      select(area, (current + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && current >= 0) {
      event.preventDefault();
      insert(area, items[current].dataset.handle);
    } else if (event.key === "Escape") {
      close(area);
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-mentions]")) { close(event.target); }
  });
})();
