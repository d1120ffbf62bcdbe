// Each answer saved as it is given, and nothing typed lost without a connection (issue 16).
//
// A "card" is any element with data-autosave and the htmx attributes that post it, e.g.
//   <div id="card-A1" data-autosave data-autosave-key="self/anping-2026/990121100001/A1"
//        hx-post="/…/item/A1/" hx-trigger="change" hx-include="this" hx-target="this"
//        hx-swap="outerHTML" hx-encoding="multipart/form-data">
//     … inputs …  <span data-autosave-status></span>
//   </div>
// The server answers with the card again (saved, or the error beside its field with what was
// typed; an error answers 422 and is swapped in all the same). The card's inputs may belong to a
// page-wide form through their form="…" attribute, so that without JavaScript one button saves
// the whole page; htmx sends only the card's own fields (hx-include="this", no enclosing form).
//
// Without a connection the card's typed values go to localStorage (key "civicmark:waiting") and
// the card says "waiting to send"; they are sent again when the browser is back online, every
// 20 seconds meanwhile, and when the page is opened again (the values are put back in the card
// first). An element with data-autosave-waiting shows how many answers are waiting, one with
// data-autosave-invalid how many cards are refused and not saved.
// Used by the self-assessment page and the assessor's score page: one copy of this, not two.
(function () {
  "use strict";
  var STORE = "civicmark:waiting";
  var sent = new WeakMap(); // card -> the values of its request in flight

  function cardOf(elt) { return elt && elt.closest ? elt.closest("[data-autosave]") : null; }
  function read() {
    try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }
  function write(all) {
    try { localStorage.setItem(STORE, JSON.stringify(all)); } catch (e) { /* full: the card still says so */ }
    showWaiting();
  }
  function fields(card) {
    var values = {};
    card.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (input) {
      if (input.type === "file") { return; } // a chosen file stays in its input until sent
      if ((input.type === "checkbox" || input.type === "radio") && !input.checked) { return; }
      values[input.name] = input.value;
    });
    return values;
  }
  function restore(card, values) {
    Object.keys(values).forEach(function (name) {
      card.querySelectorAll("[name=\"" + name.replace(/"/g, "") + "\"]").forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          input.checked = input.value === values[name];
        } else if (input.type !== "file") {
          input.value = values[name];
        }
      });
    });
  }
  function label(card, state, text) {
    card.dataset.state = state;
    var status = card.querySelector("[data-autosave-status]");
    if (status) { status.textContent = text || status.dataset[state] || ""; }
    showWaiting();
  }
  function showWaiting() {
    var count = Object.keys(read()).length;
    document.querySelectorAll("[data-autosave-waiting]").forEach(function (el) {
      el.hidden = count === 0;
      var text = el.dataset.text || "%s waiting to send";
      el.textContent = text.replace("%s", count);
    });
    // The progress bar counts the cards refused (the error beside their box): one turning
    // invalid below the screen is not left to be found by scrolling.
    var invalid = document.querySelectorAll("[data-autosave][data-state=\"error\"]").length;
    document.querySelectorAll("[data-autosave-invalid]").forEach(function (el) {
      el.hidden = invalid === 0;
      el.textContent = (el.dataset.text || "Not saved, to correct: %s").replace("%s", invalid);
    });
  }
  function keep(card) {
    var key = card.dataset.autosaveKey;
    var all = read();
    all[key] = { id: card.id, values: fields(card), at: Date.now() };
    write(all);
    label(card, "waiting");
  }
  function forget(card) {
    var all = read();
    if (all[card.dataset.autosaveKey]) { delete all[card.dataset.autosaveKey]; write(all); }
  }
  function sendWaiting() {
    if (navigator.onLine === false) { return; }
    var all = read();
    Object.keys(all).forEach(function (key) {
      var card = document.querySelector("[data-autosave][data-autosave-key=\"" + key.replace(/"/g, "") + "\"]");
      if (card && card.dataset.state !== "saving") {
        restore(card, all[key].values);
        htmx.trigger(card, "change");
      }
    });
  }

  // A card that replaces itself with the server's answer (data-autosave-on-leave) is sent when
  // the person leaves it, not at each box: otherwise moving from the explanation to the points
  // box would send half an answer and replace the card under the finger still typing in it.
  // A change from a box inside such a card is held while the focus stays in the card; the card
  // is sent (a change on the card itself, which htmx listens for) once the focus leaves it. A
  // chosen file or photo is sent at once: nobody is typing then.
  var held = new WeakSet();
  function leaveCard(card) {
    if (!held.has(card)) { return; }
    held.delete(card);
    htmx.trigger(card, "change");
  }
  document.addEventListener("change", function (event) {
    var card = cardOf(event.target);
    if (!card || event.target === card || !card.hasAttribute("data-autosave-on-leave")) { return; }
    if (event.target.type === "file") { return; }
    event.stopPropagation();
    held.add(card);
    label(card, "unsaved");
    // The change comes before the focus moves: look once it has.
    setTimeout(function () { if (!card.contains(document.activeElement)) { leaveCard(card); } }, 0);
  }, true);
  document.addEventListener("focusout", function (event) {
    var card = cardOf(event.target);
    if (!card || (event.relatedTarget && card.contains(event.relatedTarget))) { return; }
    setTimeout(function () { leaveCard(card); }, 0);
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var card = cardOf(event.detail.elt);
    if (!card) { return; }
    sent.set(card, fields(card));
    label(card, "saving");
  });
  // The answer to a refused entry (422) replaces the card like a saved one: the error is beside
  // its field, with what was typed.
  var carried = {}; // card id -> what was typed in it while its answer travelled
  document.addEventListener("htmx:beforeSwap", function (event) {
    var card = cardOf(event.detail.elt);
    if (!card) { return; }
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
    if (!event.detail.shouldSwap) { return; }
    var before = sent.get(card) || {};
    var now = fields(card);
    var newer = {};
    Object.keys(now).forEach(function (name) { if (now[name] !== before[name]) { newer[name] = now[name]; } });
    carried[card.id] = newer;
  });
  // After the new card is in place and processed (a change sent while its answer travelled was
  // dropped by htmx, one request per element at a time): what was typed meanwhile goes back in
  // the card and is sent in turn.
  document.addEventListener("htmx:afterSettle", function (event) {
    var card = cardOf(event.detail.elt);
    if (!card || !(card.id in carried)) { return; }
    var newer = carried[card.id];
    delete carried[card.id];
    if (event.detail.xhr && event.detail.xhr.status < 500) { forget(card); } // saved, or refused with its reason
    if (Object.keys(newer).length) {
      restore(card, newer);
      label(card, "unsaved");
      setTimeout(function () { htmx.trigger(card, "change"); }, 0);
    }
    showWaiting();
  });
  // The progress bar comes back with every answer (swapped out of band, its badges hidden):
  // whatever new content arrives, the badges are counted again once it is in place.
  document.addEventListener("htmx:load", showWaiting);
  // No connection (or a server that did not answer): kept in the browser, sent later.
  ["htmx:sendError", "htmx:timeout", "htmx:responseError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var card = cardOf(event.detail.elt);
      if (card && !(name === "htmx:responseError" && event.detail.xhr.status === 422)) { keep(card); }
    });
  });
  window.addEventListener("online", sendWaiting);
  setInterval(function () { if (Object.keys(read()).length) { sendWaiting(); } }, 20000);
  // Leaving with an answer the server refused, or still on its way, asks first.
  window.addEventListener("beforeunload", function (event) {
    if (document.querySelector("[data-autosave][data-state=\"saving\"], [data-autosave][data-state=\"error\"], [data-autosave][data-state=\"unsaved\"]")) {
      event.preventDefault(); event.returnValue = "";
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var all = read();
    Object.keys(all).forEach(function (key) {
      var card = document.querySelector("[data-autosave][data-autosave-key=\"" + key.replace(/"/g, "") + "\"]");
      if (card) { restore(card, all[key].values); label(card, "waiting"); }
    });
    showWaiting();
  });
  // Sent once htmx has taken the page in hand (it does so on DOMContentLoaded too).
  window.addEventListener("load", function () { setTimeout(sendWaiting, 0); });
})();
