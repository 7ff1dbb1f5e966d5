// Training lab: a drawing canvas (mouse, pen or finger). The strokes are sent as a PNG data URL.
(function () {
  function setup(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    const ctx = canvas.getContext("2d");
    const clear = () => {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      canvas.dataset.drawn = "";
    };
    clear();
    let drawing = false;
    let last = null;
    const point = (event) => {
      const box = canvas.getBoundingClientRect();
      return [
        ((event.clientX - box.left) / box.width) * canvas.width,
        ((event.clientY - box.top) / box.height) * canvas.height,
      ];
    };
    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      last = point(event);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const next = point(event);
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = canvas.width / 14;
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(next[0], next[1]);
      ctx.stroke();
      last = next;
      canvas.dataset.drawn = "1";
    });
    const form = canvas.closest("form");
    const hidden = form.querySelector("#drawing-data");
    // Keep the hidden field current, so whatever sends the form sends the drawing.
    const store = () => { hidden.value = canvas.dataset.drawn ? canvas.toDataURL("image/png") : ""; };
    const stop = () => { if (drawing) store(); drawing = false; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    form.querySelector("#clear-canvas").addEventListener("click", () => { clear(); store(); });
  }
  const scan = () => document.querySelectorAll("#draw-canvas").forEach(setup);
  document.addEventListener("DOMContentLoaded", scan);
  document.addEventListener("htmx:afterSettle", scan);
})();

// Attribution maps ("Why did it decide that?"): clicking a map asks for the number of the cell
// under the pointer; on a focused map, Enter asks for its centre and the arrow keys move.
(function () {
  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
  // The cell under a point of the picture, as app/labs/training/attribution.display_cells
  // paints it: a map is stretched over the input, except occlusion, where each input pixel
  // belongs to the patch whose centre is nearest.
  function cellAt(img, fraction, axis) {
    const cells = Number(axis === "row" ? img.dataset.rows : img.dataset.cols);
    const at = clamp(fraction, 0, 0.999999);
    if (!img.dataset.stride) return clamp(Math.floor(at * cells), 0, cells - 1);
    const pixel = Math.floor(at * Number(img.dataset.side));
    const size = Number(img.dataset.size);
    const stride = Number(img.dataset.stride);
    return clamp(Math.floor((pixel - (size - 1) / 2) / stride + 0.5), 0, cells - 1);
  }
  let asked = null;  // the section whose cell was asked for: brought into view once answered
  function ask(img, row, col) {
    const form = document.getElementById(img.dataset.form);
    if (!form) return;
    form.elements.map.value = img.dataset.map;
    form.elements.row.value = row;
    form.elements.col.value = col;
    asked = form.closest("section");
    form.requestSubmit();
  }
  document.addEventListener("click", (event) => {
    const img = event.target.closest && event.target.closest("img.attr-overlay");
    if (!img) return;
    const box = img.getBoundingClientRect();
    ask(img, cellAt(img, (event.clientY - box.top) / box.height, "row"),
      cellAt(img, (event.clientX - box.left) / box.width, "col"));
  });
  const STEPS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  document.addEventListener("keydown", (event) => {
    const img = event.target.closest && event.target.closest("img.attr-overlay");
    if (!img) return;
    const rows = Number(img.dataset.rows);
    const cols = Number(img.dataset.cols);
    const form = document.getElementById(img.dataset.form);
    if (event.key === "Enter") {
      event.preventDefault();
      ask(img, Math.floor(rows / 2), Math.floor(cols / 2));
    } else if (event.key in STEPS && form) {
      event.preventDefault();
      const same = form.elements.map.value === img.dataset.map && form.elements.row.value !== "";
      const row = same ? Number(form.elements.row.value) : Math.floor(rows / 2);
      const col = same ? Number(form.elements.col.value) : Math.floor(cols / 2);
      const [dr, dc] = STEPS[event.key];
      ask(img, clamp(row + dr, 0, rows - 1), clamp(col + dc, 0, cols - 1));
    }
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!asked) return;
    const section = document.getElementById(asked.id);
    asked = null;
    const panel = section && section.querySelector(".attr-cell");
    if (!panel) return;
    const box = panel.getBoundingClientRect();
    if (box.bottom < 80 || box.top > window.innerHeight - 80) panel.scrollIntoView({ block: "nearest" });
  });
})();

// Try it yourself: a new softmax temperature asks for the same picture's prediction again, once
// there is a picture to predict (a drawing or a chosen file); before that, Predict sends it.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.name !== "temperature") return;
  const form = input.form;
  if (!form || form.id !== "predict-form") return;
  const drawing = form.querySelector("#drawing-data");
  const file = form.querySelector('input[type="file"]');
  if ((drawing && drawing.value) || (file && file.files && file.files.length)) form.requestSubmit();
});
