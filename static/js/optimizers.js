// Optimizer lab: click the map to start the race there; press S to take one step.
function mapPoint(svg, event) {
  // Pointer -> SVG user units -> surface coordinates, from the geometry the server wrote.
  const point = svg.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  const user = point.matrixTransform(svg.getScreenCTM().inverse());
  const [x0, x1, y0, y1] = svg.dataset.box.split(" ").map(Number);
  const [left, top, width, height] = svg.dataset.plot.split(" ").map(Number);
  const fx = (user.x - left) / width;
  const fy = (user.y - top) / height;
  if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return null;
  return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
}

function rounded(value, span) {
  // Enough digits for a pixel of the map, no more: the URL stays readable.
  const digits = Math.max(0, 3 - Math.floor(Math.log10(span)));
  return Number(value.toFixed(digits)).toString();
}

document.addEventListener("click", (event) => {
  const svg = event.target.closest("svg.surface-map");
  if (!svg) return;
  const point = mapPoint(svg, event);
  const form = document.getElementById("controls");
  if (!point || !form) return;
  const [x0, x1, y0, y1] = svg.dataset.box.split(" ").map(Number);
  form.elements["x0"].value = rounded(point[0], x1 - x0);
  form.elements["y0"].value = rounded(point[1], y1 - y0);
  form.requestSubmit();
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "s" && event.key !== "S") return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest("input, select, textarea, [contenteditable]")) return;
  const button = document.getElementById("step-button");
  if (!button) return;
  event.preventDefault();
  button.click();
});

// → anywhere on the page (static/js/keys.js) takes a step, as the Step button does (not again
// while that step's answer is on its way); ← goes one step back, as typing one less in "Steps so
// far" does: the race is replayed from the start to there.
document.addEventListener("cnn-keys:optimizers", (event) => {
  const button = document.getElementById("step-button");
  const steps = document.getElementById("steps");
  if (!button || !steps || !window.cnnKeys) return;
  event.preventDefault();
  if (event.detail.direction > 0) {
    window.cnnKeys.press(button);
    return;
  }
  const now = Number(steps.value);
  if (!Number.isInteger(now) || now <= 0) return;
  steps.value = String(now - 1);
  steps.dispatchEvent(new Event("change", { bubbles: true }));
});
