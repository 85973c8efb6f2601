/* The catalog's filter panel starts folded on narrow screens (results first) and open
   beside the results on wide ones. Without script it is open only when filters apply. */
(function () {
  "use strict";

  var wide = window.matchMedia("(min-width: 56rem)");

  Array.prototype.forEach.call(document.querySelectorAll("details[data-open-when-wide]"), function (panel) {
    if (wide.matches) {
      panel.open = true;
    }
  });
})();
