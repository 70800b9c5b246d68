// Small behaviours the server cannot do. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#input-id">
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    source.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(source.value).then(function () {
        button.classList.add("copied");
      });
    }
  });

  // An htmx request that failed (4xx other than 422, 5xx): show the server's message in the
  // flash area instead of silently doing nothing. Nothing on the page is replaced, so what the
  // user typed stays where it is.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var flashes = document.getElementById("flashes");
    if (!flashes) return;
    var box = document.createElement("div");
    box.className = "flash flash-error";
    box.setAttribute("role", "alert");
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var message = doc.querySelector(".error-box p");
    box.textContent = message ? message.textContent : (document.body.dataset.networkError || "Error " + xhr.status);
    flashes.replaceChildren(box);
  });

  // Enter in a filter field that sits inside another form (the media picker) applies the
  // filter instead of submitting that form: <input data-enter-changes>.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches("[data-enter-changes]")) return;
    event.preventDefault();
    event.target.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Media viewer: <a data-viewer="image|video" href="..."> opens the medium full screen in a
  // <dialog> (Escape, the close button or a tap beside the medium closes it); a modified click
  // still opens the link itself.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-viewer]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    var dialog = document.createElement("dialog");
    dialog.className = "media-viewer";
    dialog.setAttribute("aria-label", link.getAttribute("aria-label") || "");
    var medium = document.createElement(link.dataset.viewer === "video" ? "video" : "img");
    medium.src = link.href;
    if (medium.tagName === "VIDEO") {
      medium.controls = true;
      medium.playsInline = true;
    } else {
      medium.alt = link.querySelector(".media-thumb-title") ? link.querySelector(".media-thumb-title").textContent : "";
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "button media-viewer-close";
    close.textContent = document.body.dataset.closeLabel || "Close";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); link.focus(); });
    dialog.append(close, medium);
    document.body.append(dialog);
    dialog.showModal();
  });

  // A search re-run for the address already shown (Enter after the as-you-type search, or the
  // debounced request landing after Enter) must not push that address a second time, or Back
  // would need two presses: htmx replaces the entry instead. Parameters in any order are the
  // same address.
  function sameAddress(a, b) {
    var x = new URL(a, location.href), y = new URL(b, location.href);
    x.searchParams.sort();
    y.searchParams.sort();
    return x.href === y.href;
  }

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var update = event.detail.history;
    if (update && update.type === "push" && sameAddress(update.path, location.href)) update.type = "replace";
  });

  document.addEventListener("htmx:sendError", function () {
    var flashes = document.getElementById("flashes");
    if (!flashes) return;
    var box = document.createElement("div");
    box.className = "flash flash-error";
    box.setAttribute("role", "alert");
    box.textContent = document.body.dataset.networkError || "Network error";
    flashes.replaceChildren(box);
  });
})();
