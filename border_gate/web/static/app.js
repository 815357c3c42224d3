// Cửa khẩu số — the little script the pages use. Everything works without it; it only
// stops double submissions, refreshes live lists in place, and helps the yard keyboard.
"use strict";

(function () {
  // A form marked data-once sends once: a double click or an impatient Enter does not
  // post twice. (The server's version check catches what gets through anyway.)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once")) return;
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });
  // Coming back with the browser's Back button shows a cached page: let it send again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
    });
  });

  // "Go back" buttons on error pages.
  document.querySelectorAll("[data-back]").forEach(function (button) {
    button.addEventListener("click", function () { history.back(); });
  });

  // A page that waits for the workers (screening) reloads itself until it changes,
  // unless the person has started typing somewhere on it.
  var refresh = document.querySelector('meta[name="bg-refresh"]');
  if (refresh) {
    var seconds = parseInt(refresh.getAttribute("content"), 10) || 3;
    var typing = false;
    document.addEventListener("input", function () { typing = true; });
    setTimeout(function tick() {
      if (typing || document.activeElement && document.activeElement.tagName === "TEXTAREA") {
        setTimeout(tick, seconds * 1000);
        return;
      }
      window.location.reload();
    }, seconds * 1000);
  }

  // The yard's live list: fetch the fragment and swap it in, never touching the plate field.
  var live = document.querySelector("[data-refresh-url]");
  if (live && window.fetch) {
    var url = live.getAttribute("data-refresh-url");
    var every = (parseInt(live.getAttribute("data-refresh-seconds"), 10) || 10) * 1000;
    setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html) live.innerHTML = html; })
        .catch(function () { /* offline for a moment: keep the last list */ });
    }, every);
  }

  // The yard form: the plate field keeps the focus, and choosing in/out returns to it,
  // so a scanner (which types and presses Enter) or a person never reaches for the mouse.
  var plate = document.getElementById("plate");
  if (plate) {
    if (plate.getAttribute("aria-invalid") === "true") plate.select();
    document.querySelectorAll('input[name="kind"]').forEach(function (radio) {
      radio.addEventListener("change", function () { plate.focus(); });
    });
    // Alt+I / Alt+O / Alt+P as well as the accesskeys: browsers differ in the modifier
    // they use for accesskey (Firefox wants Alt+Shift), people should not have to know.
    document.addEventListener("keydown", function (event) {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      var key = (event.key || "").toLowerCase();
      var kind = key === "i" ? "gate_in" : key === "o" ? "gate_out" : null;
      if (kind) {
        var radio = document.querySelector('input[name="kind"][value="' + kind + '"]');
        if (radio) radio.checked = true;
      }
      if (kind || key === "p") {
        event.preventDefault();
        plate.focus();
        plate.select();
      }
    });
  }

  // A form with errors: move to the summary so keyboard and screen-reader users hear it.
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
