/* Moves the import's progress bar: polls the status URL every second; reloads the page when
   the import has ended. Without JavaScript the page refreshes itself (a meta refresh in <noscript>). */
(function () {
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) return;
  var bar = box.querySelector(".progress-bar");
  var text = box.querySelector(".progress-text");
  var meter = box.querySelector("[role=progressbar]");
  var url = box.getAttribute("data-status-url");
  var template = box.getAttribute("data-text");
  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.ended) { window.location.reload(); return; }
        bar.style.width = s.percent + "%";
        meter.setAttribute("aria-valuenow", s.percent);
        text.textContent = template + " " + s.percent + "%";
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 1000);
})();
