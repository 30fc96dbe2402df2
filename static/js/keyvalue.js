// The key/value editor of ConfigMaps and Secrets (apps/configs). Without JavaScript the
// "Add row" button asks the server for one more row; with it, rows are added in place.
// Kept in a file: the Content-Security-Policy allows no inline scripts.
(function () {
  "use strict";

  function editorOf(element) {
    var form = element.form || element.closest("form");
    return form ? form.querySelector("[data-kv-editor]") : null;
  }

  function addRow(editor) {
    var prefix = editor.getAttribute("data-kv-editor");
    var form = editor.closest("form");
    var total = form && form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = editor.parentNode.querySelector("template[data-kv-template]");
    if (!total || !template) {
      return false;
    }
    var index = parseInt(total.value, 10) || 0;
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var body = editor.querySelector("[data-kv-body]");
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = body.lastElementChild.querySelector("input[type='text'], input:not([type])");
    if (added) {
      added.focus();
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-kv-add]");
    if (!button) {
      return;
    }
    var editor = editorOf(button);
    if (editor && addRow(editor)) {
      event.preventDefault();
    }
  });

  // A file chosen for a row without a key names the key after the file.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-kv-row] input[type='file']")) {
      return;
    }
    var row = input.closest("[data-kv-row]");
    var key = row.querySelector("input[name$='-key']");
    if (key && !key.value && input.files && input.files.length) {
      key.value = input.files[0].name;
    }
    var value = row.querySelector("textarea");
    if (value && input.files && input.files.length) {
      value.disabled = true;
    } else if (value) {
      value.disabled = false;
    }
  });

  // Ticking "Remove" dims the row's fields (still sent, so the server removes the key).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-kv-row] input[type='checkbox'][name$='-DELETE']")) {
      return;
    }
    var row = box.closest("[data-kv-row]");
    row.querySelectorAll("input[type='text'], input:not([type]), textarea").forEach(function (f) {
      f.readOnly = box.checked;
    });
    row.setAttribute("aria-disabled", box.checked ? "true" : "false");
  });
})();
