/* Range sliders over the catalog's number inputs (progressive enhancement, no framework).

   Each <fieldset data-range-slider data-min data-max data-step [data-scale="log"]> holding
   two number inputs (from, to) gets two range inputs laid over one track. Moving a slider
   writes the number input (the form still submits only the number inputs); a slider at the
   end of the track leaves its bound empty (no limit); typing a number moves the slider.
   Without script the number inputs work as they are. */
(function () {
  "use strict";

  var STEPS = 1000; // slider positions on a logarithmic track

  function enhance(fieldset) {
    var inputs = fieldset.querySelectorAll("input[type='number']");
    if (inputs.length !== 2) {
      return;
    }
    var min = parseFloat(fieldset.getAttribute("data-min"));
    var max = parseFloat(fieldset.getAttribute("data-max"));
    var step = parseFloat(fieldset.getAttribute("data-step")) || 1;
    var log = fieldset.getAttribute("data-scale") === "log";
    var name = fieldset.querySelector("legend").textContent.trim();

    function toPosition(value) {
      if (!log) {
        return value;
      }
      return Math.round((Math.log(value / min) / Math.log(max / min)) * STEPS);
    }

    function fromPosition(position) {
      if (!log) {
        return position;
      }
      var raw = min * Math.pow(max / min, position / STEPS);
      if (step < 1) {
        return Math.round(raw / step) * step;
      }
      var magnitude = Math.pow(10, Math.max(0, Math.floor(Math.log10(raw)) - 1));
      return Math.round(raw / magnitude) * magnitude; // two significant figures
    }

    function format(value) {
      return step < 1 ? value.toFixed(2) : String(Math.round(value));
    }

    var track = document.createElement("div");
    track.className = "range-slider";
    var fill = document.createElement("div");
    fill.className = "range-slider__fill";
    track.appendChild(fill);

    var sliders = [0, 1].map(function (i) {
      var slider = document.createElement("input");
      slider.type = "range";
      slider.className = "range-slider__thumb range-slider__thumb--" + (i ? "max" : "min");
      slider.min = String(log ? 0 : min);
      slider.max = String(log ? STEPS : max);
      slider.step = log ? "1" : String(step);
      slider.setAttribute("aria-label", name + (i ? ", maximum" : ", minimum"));
      track.appendChild(slider);
      return slider;
    });

    function clamp(value) {
      return Math.min(max, Math.max(min, value));
    }

    function syncFromInputs() {
      var low = parseFloat(inputs[0].value);
      var high = parseFloat(inputs[1].value);
      sliders[0].value = String(toPosition(isNaN(low) ? min : clamp(low)));
      sliders[1].value = String(toPosition(isNaN(high) ? max : clamp(high)));
      paint();
    }

    function paint() {
      var span = parseFloat(sliders[0].max) - parseFloat(sliders[0].min);
      var start = ((parseFloat(sliders[0].value) - parseFloat(sliders[0].min)) / span) * 100;
      var end = ((parseFloat(sliders[1].value) - parseFloat(sliders[0].min)) / span) * 100;
      fill.style.left = start + "%";
      fill.style.width = Math.max(0, end - start) + "%";
      sliders.forEach(function (slider, i) {
        var value = fromPosition(parseFloat(slider.value));
        var atEnd = i ? value >= max : value <= min;
        slider.setAttribute("aria-valuetext", atEnd ? "no limit" : format(value) + " " + (fieldset.getAttribute("data-unit") || ""));
      });
    }

    sliders.forEach(function (slider, i) {
      slider.addEventListener("input", function () {
        var low = parseFloat(sliders[0].value);
        var high = parseFloat(sliders[1].value);
        if (low > high) { // the thumbs never cross
          slider.value = String(i ? low : high);
        }
        var value = fromPosition(parseFloat(slider.value));
        var atEnd = i ? value >= max : value <= min;
        inputs[i].value = atEnd ? "" : format(value);
        inputs[i].dispatchEvent(new Event("change", { bubbles: true }));
        paint();
      });
    });
    inputs[0].addEventListener("input", syncFromInputs);
    inputs[1].addEventListener("input", syncFromInputs);

    fieldset.querySelector(".range").insertAdjacentElement("beforebegin", track);
    fieldset.classList.add("has-slider");
    syncFromInputs();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-range-slider]"), enhance);
})();
