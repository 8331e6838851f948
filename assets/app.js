// jianyan console: the little script the pages use. Everything works without it; it only keeps the
// progress of broadcasts being sent up to date, keeps a confirmation from being sent twice, and says
// on the button that a long import or export is under way.
(function () {
  "use strict";
  // Loaded once per page, even when a page names it twice.
  if (window.jianyanConsole) {
    return;
  }
  window.jianyanConsole = true;

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

  // Long work says it is under way: a file import on its submit button, an export on its link (the
  // download starts when the file is ready; the link reads as before once the page has the focus
  // back, or after a minute). The words come from the page (`data-busy-*` on <body>).
  var body = document.body;
  document.querySelectorAll('form[enctype="multipart/form-data"]').forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector('button[type="submit"]');
      if (button && body.getAttribute("data-busy-import")) {
        // After this event: a button disabled now would not be sent with the form.
        window.setTimeout(function () {
          button.textContent = body.getAttribute("data-busy-import");
          button.disabled = true;
          form.setAttribute("aria-busy", "true");
        }, 0);
      }
    });
  });
  document.querySelectorAll('a[href*="/export."]').forEach(function (link) {
    link.addEventListener("click", function () {
      var text = body.getAttribute("data-busy-export");
      if (!text || link.getAttribute("aria-busy")) {
        return;
      }
      var before = link.textContent;
      link.setAttribute("aria-busy", "true");
      link.textContent = text;
      var restore = function () {
        link.textContent = before;
        link.removeAttribute("aria-busy");
        window.removeEventListener("focus", restore);
      };
      window.setTimeout(function () { window.addEventListener("focus", restore); }, 1000);
      window.setTimeout(restore, 60000);
    });
  });
})();
