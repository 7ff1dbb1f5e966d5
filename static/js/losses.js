// Loss lab: sliders show their value while moving, and dragging along a plot moves the
// prediction it is drawn against (the server recomputes when the drag ends).
document.addEventListener("input", (event) => {
  if (event.target.type !== "range") return;
  const output = document.getElementById(`${event.target.id}-value`);
  if (output) output.textContent = window.localNumber(event.target.value);
});

function chartValue(svg, event) {
  // Pointer -> SVG user units -> the x value, from the geometry the server wrote.
  const point = svg.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  const user = point.matrixTransform(svg.getScreenCTM().inverse());
  const low = Number(svg.dataset.xLow);
  const high = Number(svg.dataset.xHigh);
  const left = Number(svg.dataset.plotLeft);
  const width = Number(svg.dataset.plotWidth);
  const fraction = Math.min(1, Math.max(0, (user.x - left) / width));
  return { value: low + fraction * (high - low), x: left + fraction * width };
}

let drag = null; // { svg, input }

function follow(event) {
  const { svg, input } = drag;
  const { value, x } = chartValue(svg, event);
  input.value = String(value); // a range input snaps it to its step and limits
  const output = document.getElementById(`${input.id}-value`);
  if (output) output.textContent = window.localNumber(input.value);
  // Move the marker and the cursor line along while dragging: feedback before the server answers.
  svg.querySelectorAll(".chart-cursor").forEach((line) => {
    line.setAttribute("x1", x.toFixed(1));
    line.setAttribute("x2", x.toFixed(1));
  });
  const marker = svg.querySelector(".chart-marker");
  if (marker) marker.setAttribute("cx", x.toFixed(1));
}

document.addEventListener("pointerdown", (event) => {
  const svg = event.target.closest("svg[data-drag-input]");
  if (!svg || event.button !== 0) return;
  const input = document.getElementById(svg.dataset.dragInput);
  if (!input) return;
  event.preventDefault();
  drag = { svg, input };
  svg.setPointerCapture(event.pointerId);
  follow(event);
});

document.addEventListener("pointermove", (event) => {
  if (drag) follow(event);
});

function endDrag() {
  if (!drag) return;
  const { input } = drag;
  drag = null;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

document.addEventListener("pointerup", endDrag);
document.addEventListener("pointercancel", endDrag);

// ← → anywhere on the page (static/js/keys.js) move the slider the user last moved or dragged
// (at first the prediction ŷ) by one of its steps, as its own arrow keys do.
let lastSlider = "yhat";
document.addEventListener("change", (event) => {
  if (event.isTrusted && event.target.type === "range" && event.target.closest("#controls")) lastSlider = event.target.id;
});
document.addEventListener("pointerdown", (event) => {
  const svg = event.target.closest && event.target.closest("svg[data-drag-input]");
  if (svg) lastSlider = svg.dataset.dragInput;
});
document.addEventListener("cnn-keys:losses", (event) => {
  const slider = document.getElementById(lastSlider) || document.getElementById("yhat");
  if (!slider || !window.cnnKeys) return;
  event.preventDefault();
  window.cnnKeys.move(slider, event.detail.direction);
});
