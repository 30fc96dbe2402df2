// Formset rows (the workload wizard, the Service and Ingress forms): "Add row" adds a row in
// place from its <template>; without JavaScript the button asks the server for one more row
// instead. "Remove" ([data-remove-row]) ticks the row's DELETE box and hides the row; without
// JavaScript the box itself is there to tick. Kept in a file: the Content-Security-Policy
// allows no inline scripts.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-add-row]");
    if (!button) {
      return;
    }
    var prefix = button.getAttribute("data-add-row");
    var form = button.form || button.closest("form");
    var total = form && form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var holder = button.parentNode;
    var template = holder.querySelector("template[data-row-template]");
    var body = holder.querySelector("[data-rows='" + prefix + "'] [data-rows-body]");
    if (!total || !template || !body) {
      return;
    }
    event.preventDefault();
    var index = parseInt(total.value, 10) || 0;
    body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    if (window.htmx) {
      window.htmx.process(body.lastElementChild);
    }
    var first = body.lastElementChild.querySelector("input:not([type='hidden']), select");
    if (first) {
      first.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-remove-row]");
    if (!button) {
      return;
    }
    var row = button.closest("[data-row]");
    var box = row && row.querySelector("input[type='checkbox'][name$='-DELETE']");
    if (!box) {
      return;
    }
    event.preventDefault();
    box.checked = true;
    row.hidden = true;
  });
})();
