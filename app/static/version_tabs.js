// One tab per network on a post's card (templates/versions/_tabs.html). Without JavaScript
// every version is shown, one under the other; here the tab bar appears and one version shows
// at a time. Tabs follow the ARIA tabs pattern: arrow keys move between them, Home and End go
// to the first and last, a tap or a click selects.
(function () {
  "use strict";

  function select(tabs, tab, focus) {
    tabs.forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !chosen;
    });
    if (focus) tab.focus();
  }

  function setUp(box) {
    var list = box.querySelector("[role=tablist]");
    if (!list) return;
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    if (!tabs.length) return;
    box.dataset.tabsReady = "true";
    box.classList.add("tabs-on");
    list.hidden = false;
    var current = tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0] || tabs[0];
    tabs.forEach(function (tab) {
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (!panel) return;
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.tabIndex = 0;
    });
    select(tabs, current, false);
    list.addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) select(tabs, tab, true);
    });
    list.addEventListener("keydown", function (event) {
      var at = tabs.indexOf(document.activeElement);
      if (at < 0) return;
      var next = {ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1,
                  Home: 0, End: tabs.length - 1}[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(tabs, tabs[(next + tabs.length) % tabs.length], true);
    });
  }

  function setUpAll() {
    document.querySelectorAll("[data-version-tabs]:not([data-tabs-ready])").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", setUpAll);
  document.addEventListener("htmx:load", setUpAll);  // a card swapped in by htmx
})();
