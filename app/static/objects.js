// Live character counters under the message, one per ticked target network, counted the way
// each network counts (app/networks.py text_length; the server's check stays the reference).
(function () {
  "use strict";
  var URL = /https?:\/\/\S+/gi;
  var X_LIGHT = [[0x0000, 0x10FF], [0x2000, 0x200D], [0x2010, 0x201F], [0x2032, 0x2037]];

  function length(text, counting) {
    text = text.normalize("NFC");
    if (counting === "utf8_bytes") return new TextEncoder().encode(text).length;
    if (counting === "utf16") return text.length;
    var points = Array.from(text);
    if (counting !== "x_weighted") return points.length;
    var urls = text.match(URL) || [];
    var rest = Array.from(text.replace(URL, ""));
    var light = rest.filter(function (ch) {
      var c = ch.codePointAt(0);
      return X_LIGHT.some(function (r) { return c >= r[0] && c <= r[1]; });
    }).length;
    return light + 2 * (rest.length - light) + 23 * urls.length;
  }

  function update(form) {
    var message = form.querySelector("textarea[data-limits]");
    var list = form.querySelector("[data-counters-for]");
    if (!message || !list) return;
    var limits = JSON.parse(message.dataset.limits);
    var text = message.value;  // the link travels apart (a link card on Facebook and LinkedIn)
    var seen = {};
    list.textContent = "";
    form.querySelectorAll("input[data-platform]:checked").forEach(function (box) {
      var platform = box.dataset.platform;
      if (seen[platform] || !limits[platform]) return;
      seen[platform] = true;
      var n = length(text, limits[platform].counting);
      var item = document.createElement("li");
      item.textContent = box.parentElement.textContent.trim().split(" — ")[0] + " " + n + " / " + limits[platform].max;
      if (n > limits[platform].max) item.className = "over";
      list.appendChild(item);
    });
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-testid=object-form]");
    if (form) update(form);
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-testid=object-form]");
    if (form) update(form);
  });
  // A message swapped in by htmx (N8N's draft, "Use this draft") is counted at once.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.target.closest && event.target.closest("form[data-testid=object-form]");
    if (form) update(form);
  });
  function init() { document.querySelectorAll("form[data-testid=object-form]").forEach(update); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
