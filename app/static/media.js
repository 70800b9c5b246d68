// Media uploads: one XMLHttpRequest per file whose body is the file itself (see
// app/media/uploads.py), so each file has a real progress bar and its own cancel button.
// Texts come from data-text-* attributes rendered in the user's language. No inline script.
(function () {
  "use strict";

  var CONCURRENT = 2;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }

  function el(tag, className, textContent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (textContent) node.textContent = textContent;
    return node;
  }

  function Uploader(panel) {
    this.panel = panel;
    this.url = panel.getAttribute("data-upload-url");
    this.list = panel.querySelector("[data-upload-list]");
    this.queue = [];
    this.active = 0;
  }

  Uploader.prototype.text = function (name) {
    return this.panel.getAttribute("data-text-" + name) || "";
  };

  Uploader.prototype.add = function (files) {
    for (var i = 0; i < files.length; i++) {
      var job = { file: files[i] };
      job.row = this.row(job);
      this.queue.push(job);
    }
    this.pump();
  };

  Uploader.prototype.row = function (job) {
    var self = this;
    var row = el("li", "upload-row");
    row.appendChild(el("span", "upload-name", job.file.name));
    job.progress = el("progress");
    job.progress.max = job.file.size || 1;
    job.progress.value = 0;
    job.progress.setAttribute("aria-label", job.file.name);
    row.appendChild(job.progress);
    job.status = el("span", "upload-status", this.text("waiting"));
    row.appendChild(job.status);
    job.cancel = el("button", "link-button upload-cancel", this.text("cancel"));
    job.cancel.type = "button";
    job.cancel.addEventListener("click", function () { self.abort(job); });
    row.appendChild(job.cancel);
    this.list.appendChild(row);
    return row;
  };

  Uploader.prototype.pump = function () {
    while (this.active < CONCURRENT && this.queue.length) {
      var job = this.queue.shift();
      if (!job.cancelled) this.send(job);
    }
  };

  Uploader.prototype.abort = function (job) {
    job.cancelled = true;
    if (job.xhr) {
      job.xhr.abort();
    } else {
      this.finish(job, "cancelled", this.text("cancelled"));
    }
  };

  // A finished row: a success waits for its tile to be ready and then leaves the list
  // (settleRows); a refusal, a duplicate or a cancel stays until dismissed.
  Uploader.prototype.finish = function (job, state, message, href) {
    job.row.classList.add("upload-" + state);
    job.status.textContent = "";
    if (href) {
      var link = el("a", "", message);
      link.href = href;
      job.status.appendChild(link);
    } else {
      job.status.textContent = message;
    }
    job.cancel.remove();
    if (state !== "done") dismissable(job.row, this.text("dismiss"));
  };

  function dismissable(row, label) {
    if (row.querySelector(".upload-dismiss")) return;
    var button = el("button", "link-button upload-dismiss", "\u00d7");
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.addEventListener("click", function () { row.remove(); });
    row.appendChild(button);
  }

  // Rows of uploaded files whose tile has settled: gone once ready, red if processing failed.
  function settleRows() {
    document.querySelectorAll(".upload-row.upload-done[data-asset-id]").forEach(function (row) {
      var card = document.getElementById("asset-" + row.getAttribute("data-asset-id"));
      if (!card || card.classList.contains("status-processing")) return;
      if (card.classList.contains("status-ready")) {
        row.remove();
        return;
      }
      var panel = row.closest("[data-upload-url]");
      row.classList.replace("upload-done", "upload-error");
      row.querySelector(".upload-status").textContent = panel.getAttribute("data-text-failed");
      dismissable(row, panel.getAttribute("data-text-dismiss"));
    });
  }

  Uploader.prototype.send = function (job) {
    var self = this;
    var xhr = new XMLHttpRequest();
    job.xhr = xhr;
    this.active++;
    xhr.open("POST", this.url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-Filename", encodeURIComponent(job.file.name));
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      job.progress.max = event.total;
      job.progress.value = event.loaded;
      job.status.textContent = Math.floor((100 * event.loaded) / event.total) + " %";
    });
    xhr.upload.addEventListener("load", function () {
      job.progress.value = job.progress.max;
      job.status.textContent = self.text("checking");
    });
    xhr.addEventListener("load", function () { self.answered(job, xhr); });
    xhr.addEventListener("error", function () { self.finish(job, "error", self.text("interrupted")); });
    xhr.addEventListener("abort", function () { self.finish(job, "cancelled", self.text("cancelled")); });
    xhr.addEventListener("loadend", function () {
      self.active--;
      self.pump();
    });
    xhr.send(job.file);
  };

  Uploader.prototype.answered = function (job, xhr) {
    var data = {};
    try {
      data = JSON.parse(xhr.responseText);
    } catch (e) {
      data = { error: this.text("interrupted") };
    }
    if (xhr.status < 200 || xhr.status >= 300) {
      this.finish(job, "error", data.error || this.text("interrupted"));
      return;
    }
    job.row.setAttribute("data-asset-id", data.id);
    this.finish(job, data.duplicate ? "duplicate" : "done", data.message, data.url);
    if (data.tile) {
      showTile(data.id, data.tile);
      settleRows();
      document.body.dispatchEvent(new CustomEvent("media-changed", { bubbles: true })); // the facet counts
    } else if (data.url) {
      window.location.assign(data.url); // a replaced file: the detail page shows the new version
    }
  };

  function showTile(id, html) {
    var grid = document.getElementById("media-grid");
    if (!grid || document.getElementById("tile-" + id)) return;
    grid.insertAdjacentHTML("afterbegin", html);
    if (window.htmx) window.htmx.process(grid.firstElementChild);
    var listing = document.getElementById("media-listing");
    var empty = listing && listing.querySelector(".empty-state");
    if (empty) empty.remove();
  }

  function setUp(panel) {
    var uploader = new Uploader(panel);
    var input = panel.querySelector("[data-upload-input]");
    input.addEventListener("change", function () {
      uploader.add(input.files);
      input.value = "";
    });
    // The library names its drop zone (the whole listing); the replace form has none.
    var target = panel.getAttribute("data-dropzone-target");
    var zone = target ? document.querySelector(target) : panel.querySelector("[data-dropzone]");
    if (!zone) return;
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", function (event) {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) uploader.add(event.dataTransfer.files);
    });
    // A file dropped beside the zone would make the browser leave the page to open it.
    document.addEventListener("dragover", function (event) { event.preventDefault(); });
    document.addEventListener("drop", function (event) { event.preventDefault(); });
  }

  document.querySelectorAll("[data-upload-url]").forEach(setUp);

  // An asset field saves when left (change) and with its button (submit). Pressing the button
  // leaves the field first: that save is already on its way with the same value, so the
  // button's would only abort it and send it again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form.meta-field")) form.setAttribute("data-sent", form.elements.value.value);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form.meta-field.htmx-request") && form.getAttribute("data-sent") === form.elements.value.value) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // A media picker (<div class="picker" data-follow-targets>, unless loaded with follow=none)
  // follows its form's target boxes (<input data-platform>): the networks of those ticked travel
  // as picker_for, and its results are asked again, so "only files that fit every target" always
  // means the targets ticked now.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox][data-platform]") || !box.form) return;
    var networks = [];
    Array.prototype.forEach.call(box.form.querySelectorAll("input[type=checkbox][data-platform]:checked"), function (ticked) {
      var network = ticked.getAttribute("data-platform");
      if (networks.indexOf(network) < 0) networks.push(network);
    });
    Array.prototype.forEach.call(box.form.querySelectorAll(".picker[data-follow-targets] .picker-filters"), function (filters) {
      Array.prototype.forEach.call(filters.querySelectorAll("input[name=picker_for]"), function (old) {
        old.parentNode.removeChild(old);
      });
      networks.forEach(function (network) {
        var hidden = el("input");
        hidden.type = "hidden";
        hidden.name = "picker_for";
        hidden.value = network;
        filters.appendChild(hidden);
      });
      filters.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  // Instant search from the keyboard: "/" focuses the search box, the arrow keys walk the
  // results (ArrowDown from the box enters them, ArrowUp from the first row goes back),
  // Enter opens one (a card is a link), Escape clears the box or returns to it.
  // <input data-search-input="<selector of the results>">; htmx does the searching.
  var RESULTS = ".media-card, .picker-tile > .button";

  function editable(node) {
    return node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName);
  }

  function results(box) {
    var list = document.querySelector(box.getAttribute("data-search-input"));
    return list ? Array.prototype.slice.call(list.querySelectorAll(RESULTS)) : [];
  }

  function boxOf(node) {
    var boxes = document.querySelectorAll("input[data-search-input]");
    for (var i = 0; i < boxes.length; i++) {
      var list = document.querySelector(boxes[i].getAttribute("data-search-input"));
      if (list && list.contains(node)) return boxes[i];
    }
    return null;
  }

  function columns(items) {
    var n = 1;
    while (n < items.length && items[n].offsetTop === items[0].offsetTop) n++;
    return n;
  }

  function clear(box) {
    if (!box.value) return;
    box.value = "";
    box.dispatchEvent(new Event("input", { bubbles: true })); // htmx's "input changed" trigger
  }

  function moveFrom(box, current, key) {
    var items = results(box);
    var at = items.indexOf(current);
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(items), ArrowDown: columns(items) }[key];
    var next = at + step;
    if (next < 0 && key === "ArrowUp") return box.focus();
    if (next >= 0 && next < items.length) items[next].focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (event.key === "/" && !editable(target)) {
      var first = document.querySelector("input[data-search-input]");
      if (!first) return;
      event.preventDefault();
      first.focus();
      first.select();
    } else if (target.matches("input[data-search-input]")) {
      if (event.key === "Escape") {
        event.preventDefault();
        clear(target);
      } else if (event.key === "ArrowDown" && results(target).length) {
        event.preventDefault();
        results(target)[0].focus();
      }
    } else if (target.matches(RESULTS)) {
      var box = boxOf(target);
      if (!box) return;
      if (event.key === "Escape") {
        event.preventDefault();
        box.focus();
      } else if (/^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
        event.preventDefault();
        moveFrom(box, target, event.key);
      }
    }
  });

  // Filters folded on phones, open on wider screens; the bulk tagging bar only once a file is
  // selected (or while it shows the outcome of an action). Both re-run after htmx swaps.
  var WIDE = window.matchMedia("(min-width: 48rem)");

  function arrange() {
    if (WIDE.matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (panel) { panel.open = true; });
    }
    var bar = document.getElementById("bulk-form");
    if (bar) {
      var result = document.getElementById("bulk-result");
      var selected = document.querySelectorAll(".tile-select:checked").length;
      bar.hidden = !selected && !(result && result.textContent.trim());
      var count = bar.querySelector(".bulk-count");
      count.textContent = selected === 1 ? count.getAttribute("data-text-one")
        : selected ? count.getAttribute("data-text-many").replace("{n}", selected) : "";
      bar.querySelector("[data-select-all]").hidden = selected === document.querySelectorAll(".tile-select").length;
      bar.querySelector("[data-select-none]").hidden = !selected;
    }
  }

  // "Select all" takes the files shown on the page; "Clear the selection" lets them all go.
  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-select-all], [data-select-none]");
    if (!all) return;
    var on = all.hasAttribute("data-select-all");
    document.querySelectorAll(".tile-select").forEach(function (box) { box.checked = on; });
    arrange();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches(".tile-select")) arrange();
  });
  document.addEventListener("htmx:afterSettle", function () {
    arrange();
    settleRows();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", arrange);
  else arrange();
})();
