// The assessor's score cards: a column pasted from Excel fills the column, and a card says
// when what it shows is not saved yet. Each card saves itself through htmx (hx-post on the
// card) and autosave.js keeps what could not be sent; this file only fills boxes and marks
// state, the server decides what is valid.
(function () {
  "use strict";

  function stateOf(card) { return card.querySelector(".score-state"); }

  function mark(card, state, text) {
    var box = stateOf(card);
    if (!box) { return; }
    box.dataset.state = state;
    box.textContent = text;
  }

  // Excel copies a column as lines, a block as lines of tab-separated cells. A trailing line
  // break is Excel's, not an empty value.
  function rowsOf(text) {
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    while (lines.length && lines[lines.length - 1] === "") { lines.pop(); }
    return lines.map(function (line) { return line.split("\t"); });
  }

  document.addEventListener("paste", function (event) {
    var box = event.target.closest("[data-paste-column]");
    var form = box && box.closest("[data-score-form]");
    if (!form || !event.clipboardData) { return; }
    var rows = rowsOf(event.clipboardData.getData("text/plain"));
    if (rows.length < 2 && !(rows[0] && rows[0].length > 1)) { return; } // one value: as usual
    event.preventDefault();
    var boxes = Array.prototype.slice.call(form.querySelectorAll("[data-paste-column]"));
    var start = boxes.indexOf(box);
    var filled = 0;
    rows.forEach(function (cells, n) {
      var target = boxes[start + n];
      if (!target || target.disabled) { return; }
      var card = target.closest("[data-item]");
      target.value = cells[0].trim();
      // A second column copied beside the points is the reason for the deduction.
      var reason = card.querySelector("[data-paste-reason]");
      if (cells.length > 1 && reason) { reason.value = cells[1].trim(); }
      filled += 1;
      // Each card saves as if typed (the requests queue on the form: hx-sync).
      target.dispatchEvent(new Event("change", { bubbles: true }));
    });
    var bar = form.querySelector("[data-testid=score-bar]");
    if (bar) { bar.dataset.pasted = String(filled); }
  });

  // Typing changes a card: it is not saved until the change is sent and answered.
  document.addEventListener("input", function (event) {
    var form = event.target.closest("[data-score-form]");
    var card = event.target.closest("[data-item]");
    if (form && card) { mark(card, "dirty", form.dataset.dirtyText); }
  });

  // After a card's answer: a box is marked invalid exactly while its error beside it says so.
  document.addEventListener("htmx:afterSettle", function (event) {
    var card = event.target.closest && event.target.closest("[data-item]");
    if (!card) { return; }
    card.querySelectorAll("[aria-describedby]").forEach(function (box) {
      var error = document.getElementById(box.getAttribute("aria-describedby"));
      box.classList.toggle("is-invalid", !!(error && error.textContent.trim()));
    });
    var state = stateOf(card);
    card.classList.toggle("border-danger", !!(state && state.dataset.state === "error"));
    // The card stays on the page (only its state is swapped): it takes the server's answer as
    // its state, which autosave.js set to "saving" when the answer left.
    if (state) { card.dataset.state = state.dataset.state; }
  });

})();
