/* The catalog's filter panel starts folded on narrow screens (results first) and open
   beside the results on wide ones. Without script it is open only when filters apply.
   With script, choosing a sort order applies it at once (without, a Sort button does). */
(function () {
  "use strict";

  var wide = window.matchMedia("(min-width: 56rem)");

  Array.prototype.forEach.call(document.querySelectorAll("details[data-open-when-wide]"), function (panel) {
    if (wide.matches) {
      panel.open = true;
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    var form = select.form;
    if (!form) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-autosubmit-button]"), function (button) {
      button.hidden = true;
    });
    select.addEventListener("change", function () {
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  });
})();
