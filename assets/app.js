// jianyan console: the little script the pages use. Everything works without it; it only keeps the
// progress of broadcasts being sent up to date, and keeps a confirmation from being sent twice.
(function () {
  "use strict";

  var PARTS = ["sent", "failed", "blocked", "uncertain", "pending"];
  var COUNTS = ["sent", "pending", "failed", "blocked", "uncertain", "not_sent", "total"];

  function update(box, p) {
    var total = p.total > 0 ? p.total : 1;
    var x = 0;
    PARTS.forEach(function (part) {
      var width = (100 * p[part]) / total;
      var rect = box.querySelector('rect[data-part="' + part + '"]');
      if (rect) {
        rect.setAttribute("x", x.toFixed(3));
        rect.setAttribute("width", width.toFixed(3));
      }
      x += width;
    });
    COUNTS.forEach(function (key) {
      box.querySelectorAll('[data-count="' + key + '"]').forEach(function (el) {
        el.textContent = String(p[key]);
      });
    });
    box.setAttribute("data-pending", String(p.pending));
    if (p.pending === 0 || p.cancelled) {
      box.querySelectorAll("[data-while-pending]").forEach(function (el) {
        el.hidden = true;
      });
      var status = box.querySelector("[data-status]");
      if (status) {
        status.textContent = box.getAttribute(p.cancelled ? "data-cancelled-text" : "data-done-text");
      }
    }
  }

  // Polls every 2 s while messages are pending; after an error, waits longer before trying again.
  function poll(box) {
    fetch(box.getAttribute("data-progress"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (p) {
        update(box, p);
        if (p.pending > 0 && !p.cancelled) {
          window.setTimeout(function () { poll(box); }, 2000);
        }
      })
      .catch(function () {
        window.setTimeout(function () { poll(box); }, 10000);
      });
  }

  document.querySelectorAll("[data-progress]").forEach(function (box) {
    if (Number(box.getAttribute("data-pending")) > 0) {
      window.setTimeout(function () { poll(box); }, 2000);
    }
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
    });
  });
})();
