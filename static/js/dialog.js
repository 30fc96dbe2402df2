// Dialogs drawn by the server (the workload wizard's "New registry Secret"): a
// <dialog data-dialog> swapped in by HTMX opens as a modal, with the focus on its first field
// with an error (or its first field); Escape (the browser's own) or a [data-dialog-close]
// button closes it, and the focus goes back to the button that opened it. A picker drawn
// again with [data-created] gets the focus on the choice just created; a request refused
// outside the form shows the dialog's [data-dialog-failed] message. Kept in a file: the
// Content-Security-Policy allows no inline scripts.
(function () {
  "use strict";

  var opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.getAttribute && elt.getAttribute("aria-haspopup") === "dialog") {
      opener = elt;
    }
  });

  function open(dialog) {
    if (dialog.open) {
      return;
    }
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (opener && document.contains(opener)) {
        opener.focus();
      }
    });
    dialog.showModal();
    var first =
      dialog.querySelector(".invalid input, .invalid select, .invalid textarea") ||
      dialog.querySelector("input:not([type='hidden']), select, textarea, button");
    if (first) {
      first.focus();
    }
  }

  function created(picker) {
    var name = picker.getAttribute("data-created");
    var boxes = picker.querySelectorAll("input[type='checkbox']");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value === name) {
        boxes[i].focus();
        return;
      }
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-dialog-close]");
    var dialog = button && button.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });

  // A refusal that is not a form's (a 404 for a namespace no longer open to the user, a
  // 403, the portal away) is not drawn by HTMX: the dialog says so itself.
  function failed(event) {
    var elt = event.detail && event.detail.elt;
    var dialog = elt && elt.closest && elt.closest("dialog[data-dialog]");
    var message = dialog && dialog.querySelector("[data-dialog-failed]");
    if (message) {
      message.hidden = false;
    }
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.matches) {
      return;
    }
    if (elt.matches("dialog[data-dialog]")) {
      open(elt);
    } else if (elt.matches("[data-created]")) {
      created(elt);
    }
  });
})();
