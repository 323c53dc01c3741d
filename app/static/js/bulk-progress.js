// Bulk intake progress: poll the status endpoint and move the <progress> bar; when the import
// is done, reload to show the result. Without JavaScript a <noscript> refresh does the same.
(function () {
  "use strict";
  var box = document.querySelector(".bulk-progress");
  if (!box || box.getAttribute("data-done") === "1") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");

  function show(status) {
    bar.max = status.total || 1;
    bar.value = status.processed;
    bar.textContent = status.percent + "%";
    ["processed", "total", "created", "skipped", "failed"].forEach(function (name) {
      var el = box.querySelector('[data-field="' + name + '"]');
      if (el) { el.textContent = status[name]; }
    });
    var checking = box.querySelector(".bulk-checking");
    if (checking && status.processed > 0) { checking.hidden = true; }
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { setTimeout(poll, 3000); return; }
        show(status);
        if (status.done) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
}());
