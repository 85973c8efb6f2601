/* A stone photo that fails to load is replaced by the stone's shape drawing
   (`data-fallback`), so a broken feed image never shows as a broken picture. */
(function () {
  "use strict";

  function fallBack(img) {
    var drawing = img.getAttribute("data-fallback");
    if (drawing && img.src.indexOf(drawing) === -1) {
      img.removeAttribute("data-fallback");
      img.src = drawing;
      img.classList.add("stone-drawing");
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("img[data-fallback]"), function (img) {
    if (img.complete && img.naturalWidth === 0) {
      fallBack(img);
    } else {
      img.addEventListener("error", function () {
        fallBack(img);
      });
    }
  });
})();
