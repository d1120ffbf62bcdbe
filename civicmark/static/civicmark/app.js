// Small behaviours without inline scripts (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-print]");
    if (trigger) { event.preventDefault(); window.print(); }
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
