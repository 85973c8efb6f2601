/* Purchase → "Confirm & Pay" dialog. Without script, Purchase is a link to the same
   confirmation as a page. Escape closes the dialog (native <dialog> behaviour). */
(function () {
  "use strict";

  function init(trigger) {
    var dialog = document.getElementById(trigger.getAttribute("data-dialog-open"));
    if (!dialog || typeof dialog.showModal !== "function") {
      return;
    }

    trigger.addEventListener("click", function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      dialog.showModal();
      var first = dialog.querySelector("button, [href], input:not([type='hidden'])");
      if (first) {
        first.focus();
      }
    });

    Array.prototype.forEach.call(dialog.querySelectorAll("[data-dialog-close]"), function (button) {
      button.addEventListener("click", function () {
        dialog.close();
      });
    });

    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) {
        dialog.close();
      }
    });

    dialog.addEventListener("close", function () {
      trigger.focus();
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-dialog-open]"), init);
})();
