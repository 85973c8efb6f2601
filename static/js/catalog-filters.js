/* The catalog's filter panel is open beside the results on wide screens; on narrow ones the
   script folds it (results first, also after *Apply*; its summary says filters apply) unless a
   filter could not be used. Without script it is always open.
   With script, choosing a sort order applies it at once (without, a Sort button does), and
   empty fields are left out of the URL. */
(function () {
  "use strict";

  var wide = window.matchMedia("(min-width: 56rem)");

  Array.prototype.forEach.call(document.querySelectorAll("details[data-fold-when-narrow]"), function (panel) {
    if (!wide.matches && !panel.hasAttribute("data-filters-applied")) {
      panel.open = false;
    }
  });

  // Empty fields stay out of the URL, so a shared search reads cleanly.
  Array.prototype.forEach.call(document.querySelectorAll("form#catalog-filters"), function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && (field.type === "number" || field.tagName === "SELECT") && !field.value) {
          field.disabled = true;
        }
      });
      window.setTimeout(function () {
        Array.prototype.forEach.call(form.elements, function (field) {
          field.disabled = false;
        });
      }, 0);
    });
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
