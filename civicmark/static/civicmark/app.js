// Small behaviours without inline scripts (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-print]");
    if (trigger) { event.preventDefault(); window.print(); }
  });
  // A box of several names (core.lookup.NamedMultipleInput): its "add" box, shown only with
  // script, puts a picked suggestion (or what Enter confirms) on a line of its own in the big
  // box, once, and empties itself for the next.
  function addName(adder) {
    var box = document.getElementById(adder.dataset.addsTo);
    var value = adder.value.trim();
    if (!box || !value) { return; }
    var lines = box.value.split(/\n/).map(function (l) { return l.trim(); }).filter(Boolean);
    if (lines.indexOf(value) === -1) { lines.push(value); }
    box.value = lines.join("\n");
    adder.value = "";
  }
  document.querySelectorAll("[data-adds-to]").forEach(function (adder) {
    adder.hidden = false;
    adder.addEventListener("input", function (event) {
      // A suggestion picked from the list replaces the text at once (no inputType, or
      // insertReplacementText); letters typed one by one are left to grow.
      if (!event.inputType || event.inputType === "insertReplacementText") { addName(adder); }
    });
    adder.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); addName(adder); }
    });
  });
  // A file chosen behind a button (the rectification card's "Take a photo" and "Attach a file",
  // whose inputs are hidden) is sent at once: nothing else on its form waits to be typed, and
  // the form's own Upload button, there for pages without script, is not needed.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-send-on-choose]")) { return; }
    if (input.files && input.files.length && input.form) {
      if (input.form.requestSubmit) { input.form.requestSubmit(); } else { input.form.submit(); }
    }
  });
  document.querySelectorAll("[data-send-on-choose]").forEach(function (input) {
    var button = input.form && input.form.querySelector("[data-send-button]");
    if (button) { button.hidden = true; }
  });
  // A printed page shows the tables behind the charts, and every folded section.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("open", ""); d.dataset.openedForPrint = "1";
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-opened-for-print]").forEach(function (d) {
      d.removeAttribute("open"); delete d.dataset.openedForPrint;
    });
  });
})();
