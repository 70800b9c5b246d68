// The post form's composer (campaigns/object_form.html): the tabs per network, the phone's
// write/preview switch and the preview's network switch. It only shows and hides, and asks the
// server again: the counters and the previews are rendered by the server (no counting here).
(function () {
  "use strict";

  var form = document.getElementById("object-form");
  if (!form) return;
  var composer = document.getElementById("composer");
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function refresh() {
    if (window.htmx) window.htmx.trigger(document.body, "composer:refresh");
  }

  // -- The preview's network ------------------------------------------------------------------
  function showPreview(network) {
    var field = document.getElementById("preview-platform");
    if (field) field.value = network;
    var pane = document.querySelector("#composer-preview .preview-pane");
    if (pane && pane.parentNode.querySelector('[data-preview-platform="' + network + '"]')) pane.dataset.show = network;
    each(document.querySelectorAll("[data-preview-platform]"), function (button) {
      button.setAttribute("aria-pressed", button.dataset.previewPlatform === network ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-preview-platform]");
    if (button) showPreview(button.dataset.previewPlatform);
  });

  // A preview asked before the editor chose another network arrives after the choice: the
  // choice made last wins (the server's own when that network is no longer ticked).
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "composer-preview") return;
    var field = document.getElementById("preview-platform");
    var pane = event.target.querySelector(".preview-pane");
    if (!field || !pane) return;
    if (event.target.querySelector('[data-preview-platform="' + field.value + '"]')) showPreview(field.value);
    else field.value = pane.dataset.show;
  });

  // -- Tabs: Base and one per ticked network ------------------------------------------------
  function tabs() { return form.querySelectorAll("[data-version-tab]"); }

  function openTab(name, focus) {
    each(tabs(), function (tab) {
      var on = tab.dataset.versionTab === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      var panel = document.getElementById("version-" + tab.dataset.versionTab + "-panel");
      if (panel) panel.hidden = !on;
      if (on && focus) tab.focus();
    });
    if (name !== "base") showPreview(name);
  }

  function followTargets() {
    var ticked = {};
    each(form.querySelectorAll("input[type=checkbox][data-platform]:checked"), function (box) {
      ticked[box.dataset.platform] = true;
    });
    var reopen = false;
    each(tabs(), function (tab) {
      var name = tab.dataset.versionTab;
      if (name === "base") return;
      tab.hidden = !ticked[name];
      if (tab.hidden && tab.getAttribute("aria-selected") === "true") reopen = true;
    });
    if (reopen) openTab("base");
  }

  form.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-version-tab]");
    if (tab) openTab(tab.dataset.versionTab);
  });

  form.addEventListener("keydown", function (event) {
    var tab = event.target.closest("[data-version-tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var shown = Array.prototype.filter.call(tabs(), function (t) { return !t.hidden; });
    var at = shown.indexOf(tab) + (event.key === "ArrowRight" ? 1 : -1);
    var next = shown[(at + shown.length) % shown.length];
    event.preventDefault();
    openTab(next.dataset.versionTab, true);
  });

  // -- A network's tab: follow the base or write its own ------------------------------------
  function panelParts(panel) {
    var network = panel.dataset.platform;
    return {
      network: network,
      follow: panel.querySelector("[data-follow-message]"),
      text: panel.querySelector("[data-version-message]"),
      baseLine: panel.querySelector("[data-base-line]"),
      link: panel.querySelector('input[name="version-' + network + '-link-mode"]:checked'),
      media: panel.querySelector('input[name="version-' + network + '-media-mode"]:checked'),
      badge: document.querySelector("#version-" + network + "-tab [data-modified]")
    };
  }

  function markModified(panel) {
    var parts = panelParts(panel);
    var modified = !parts.follow.checked || (parts.link && parts.link.value !== "base") ||
      (parts.media && parts.media.value !== "base");
    if (parts.badge) parts.badge.hidden = !modified;
  }

  // Following: the field is read-only and shows the base text as its placeholder; what the editor
  // had written is kept aside and comes back if they write their own again.
  function follow(panel, moving) {
    var parts = panelParts(panel);
    var base = document.getElementById("message");
    if (parts.follow.checked) {
      if (parts.text.value) parts.text.dataset.own = parts.text.value;
      parts.text.value = "";
      parts.text.readOnly = true;
    } else {
      parts.text.readOnly = false;
      if (!parts.text.value) parts.text.value = parts.text.dataset.own || (base ? base.value : "");
      if (moving) parts.text.focus();
    }
    parts.baseLine.hidden = parts.follow.checked || !(base && base.value);
    markModified(panel);
  }

  function baseText() {
    var base = document.getElementById("message");
    var text = base ? base.value : "";
    each(form.querySelectorAll("[data-version-message]"), function (area) { area.placeholder = text; });
    each(form.querySelectorAll("[data-base-text]"), function (line) {
      line.textContent = text.length > 160 ? text.slice(0, 157) + "…" : text;
      var panel = line.closest(".version-panel[data-platform]");
      line.parentNode.hidden = panelParts(panel).follow.checked || !text;
    });
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    var panel = target.closest(".version-panel[data-platform]");
    if (target.matches("input[type=checkbox][data-platform]")) followTargets();
    if (panel && target.matches("[data-follow-message]")) follow(panel, true);
    if (panel && target.name === "version-" + panel.dataset.platform + "-link-mode") {
      panel.querySelector("[data-own-link]").hidden = target.value !== "own";
      markModified(panel);
    }
    if (panel && target.name === "version-" + panel.dataset.platform + "-media-mode") {
      panel.querySelector("[data-own-media]").hidden = target.value !== "own";
      markModified(panel);
    }
  });

  // A network's own selection starts from the base's files as they are when it opens (picked
  // after the page loaded included), not as the page was rendered.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var field = event.detail.elt.getAttribute && event.detail.elt.getAttribute("data-from-base");
    if (!field || !form.contains(event.detail.elt)) return;
    var url = new URL(event.detail.path, window.location.href);
    url.searchParams.delete(field);
    event.detail.path = url.pathname + "?" + url.searchParams.toString();
    var ids = [];
    each(form.querySelectorAll('input[name="media_ids"]'), function (input) { ids.push(input.value); });
    if (ids.length) event.detail.parameters[field] = ids;
  });

  // -- The preview follows what is typed and chosen (the picker's own search fields aside) ----
  form.addEventListener("input", function (event) {
    if (event.target.id === "message") baseText();
    if (event.target.name && event.target.name.indexOf("picker_") !== 0) refresh();
  });
  form.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.indexOf("picker_") !== 0) refresh();
  });
  // A picker's selection swapped in (a file added, moved or removed).
  document.body.addEventListener("htmx:load", function (event) {
    var added = event.target;
    if (added.classList && added.classList.contains("picker-selection") && form.contains(added)) refresh();
  });

  // -- A tab's per-image fields (LinkedIn's alt texts) follow its files: the server draws them
  // again from the form when a picker's selection changes or loads, or a tab's media mode
  // changes (the base's files count for every tab that follows them).
  function filesChanged(panel) {
    if (!window.htmx) return;
    var scope = panel && panel.dataset.platform ? panel : form;
    each(scope.querySelectorAll("[data-alt-texts]"), function (box) { window.htmx.trigger(box, "composer:media"); });
  }
  var basePickerDrawn = false;  // its first drawing shows the files the page was drawn with
  document.body.addEventListener("htmx:load", function (event) {
    var added = event.target;
    if (!added.classList || !form.contains(added)) return;
    if (!added.classList.contains("picker-selection") && !added.querySelector(".picker-selection")) return;
    if (!basePickerDrawn && added.querySelector("#picker-media_ids-selection")) {
      basePickerDrawn = true;
      return;
    }
    filesChanged(added.closest(".version-panel"));
  });
  form.addEventListener("change", function (event) {
    var panel = event.target.closest(".version-panel[data-platform]");
    if (panel && event.target.name === "version-" + panel.dataset.platform + "-media-mode") filesChanged(panel);
  });
  // What was typed while the fields were asked for wins over what the request carried.
  var typedAlt = {};
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target.hasAttribute("data-alt-texts")) return;
    each(event.detail.target.querySelectorAll("textarea"), function (area) { typedAlt[area.name] = area.value; });
  });
  document.body.addEventListener("htmx:load", function (event) {
    if (!event.target.hasAttribute || !event.target.hasAttribute("data-alt-texts")) return;
    each(event.target.querySelectorAll("textarea"), function (area) {
      if (Object.prototype.hasOwnProperty.call(typedAlt, area.name)) area.value = typedAlt[area.name];
    });
    typedAlt = {};
  });

  // -- Phones: write or preview --------------------------------------------------------------
  var views = document.querySelector("[data-composer-views]");
  if (views && composer) {
    views.hidden = false;
    views.addEventListener("click", function (event) {
      var button = event.target.closest("[data-composer-view]");
      if (!button) return;
      composer.dataset.view = button.dataset.composerView;
      each(views.querySelectorAll("[data-composer-view]"), function (other) {
        var on = other === button;
        other.setAttribute("aria-selected", on ? "true" : "false");
        other.tabIndex = on ? 0 : -1;
      });
      if (composer.dataset.view === "preview") refresh();
    });
  }

  // -- Start: the server drew every ticked network's tab one under the other (usable without
  // JavaScript); here they become tabs, the chosen one shown. The notes on what needs the script
  // (choosing files, the live preview) go.
  each(document.querySelectorAll("#composer [data-without-script]"), function (note) { note.hidden = true; });
  var bar = form.querySelector("[data-version-tablist]");
  if (bar) {
    bar.hidden = false;
    form.classList.add("tabs-on");
    each(tabs(), function (tab) {
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (!panel) return;
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
    });
    var chosen = form.querySelector('[data-version-tab][aria-selected="true"]');
    openTab(chosen ? chosen.dataset.versionTab : "base");
  }
  each(form.querySelectorAll(".version-panel[data-platform]"), function (panel) {
    if (panelParts(panel).follow.checked) panelParts(panel).text.readOnly = true;
    var link = panelParts(panel).link;
    panel.querySelector("[data-own-link]").hidden = !link || link.value !== "own";
  });
  followTargets();
})();
