// Behaviour for the portal's pages. Kept in a file: the Content-Security-Policy
// allows no inline scripts.
(function () {
  "use strict";
  // Selects marked data-autosubmit (project and language switchers) submit on change.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });
})();
