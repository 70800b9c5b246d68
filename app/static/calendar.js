// The calendar (templates/calendar/index.html): drag a post onto a day to move it. The drop asks
// the server for the confirmation step, shown in the move dialog, exactly as the "Move" control
// does (same endpoint; the control is the keyboard and phone way). The post keeps its time of
// day; the dialog lets the editor change it before confirming.
(function () {
  "use strict";
  var dragged = null;

  function dialog() { return document.getElementById("move-dialog"); }

  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }

  function dayOf(target) { return target.closest && target.closest(".cal-day[data-date]"); }

  document.addEventListener("dragstart", function (event) {
    var entry = event.target.closest && event.target.closest(".entry[data-move-url]");
    if (!entry) return;
    dragged = entry;
    entry.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.dataset.testid || "");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".cal-day.drop-target").forEach(function (d) { d.classList.remove("drop-target"); });
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    var day = dragged && dayOf(event.target);
    if (!day) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".cal-day.drop-target").forEach(function (d) { if (d !== day) d.classList.remove("drop-target"); });
    day.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var day = dragged && dayOf(event.target);
    if (!day) return;
    event.preventDefault();
    var entry = dragged;
    var calendar = document.getElementById("calendar");
    htmx.ajax("POST", entry.dataset.moveUrl, {
      source: entry, target: "#move-panel", swap: "innerHTML", headers: csrfHeaders(),
      values: { date: day.dataset.date, time: entry.dataset.time, back: calendar ? calendar.dataset.back : "" }
    });
  });

  // The move panel opens as a modal dialog whenever something is swapped into it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = dialog();
    if (box && event.detail.target && event.detail.target.id === "move-panel" && !box.open) box.showModal();
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close-dialog]");
    var box = dialog();
    if (close && box && box.contains(close)) {
      event.preventDefault();
      box.close();
    }
  });
})();
