// Filters lab: clicking a feature map explains the pixel under the pointer; on a focused map,
// Enter explains its centre and the arrow keys move the explained pixel.
function explainAt(img, row, col) {
  const form = document.getElementById("controls");
  if (!form) return;
  form.elements["m"].value = img.dataset.mapIndex;
  form.elements["row"].value = row;
  form.elements["col"].value = col;
  explaining = true;
  form.requestSubmit();
}

// A map far down the page (a big bank) leaves the explanation out of view: bring it in.
let explaining = false;
document.addEventListener("htmx:afterSettle", () => {
  if (!explaining) return;
  explaining = false;
  const panel = document.getElementById("explain");
  if (!panel) return;
  const box = panel.getBoundingClientRect();
  if (box.bottom < 80 || box.top > window.innerHeight - 80) panel.scrollIntoView({ block: "nearest" });
});

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

document.addEventListener("click", (event) => {
  const img = event.target.closest("img.fmap");
  if (!img) return;
  const box = img.getBoundingClientRect();
  const outH = Number(img.dataset.outH);
  const outW = Number(img.dataset.outW);
  const col = clamp(Math.floor(((event.clientX - box.left) / box.width) * outW), 0, outW - 1);
  const row = clamp(Math.floor(((event.clientY - box.top) / box.height) * outH), 0, outH - 1);
  explainAt(img, row, col);
});

const STEPS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

document.addEventListener("keydown", (event) => {
  const img = event.target.closest && event.target.closest("img.fmap");
  if (!img) return;
  const outH = Number(img.dataset.outH);
  const outW = Number(img.dataset.outW);
  const form = document.getElementById("controls");
  if (event.key === "Enter") {
    event.preventDefault();
    explainAt(img, Math.floor(outH / 2), Math.floor(outW / 2));
  } else if (event.key in STEPS && form) {
    event.preventDefault();
    const [dr, dc] = STEPS[event.key];
    const row = Number(form.elements["row"].value || Math.floor(outH / 2));
    const col = Number(form.elements["col"].value || Math.floor(outW / 2));
    explainAt(img, clamp(row + dr, 0, outH - 1), clamp(col + dc, 0, outW - 1));
  }
});

// Backward mode: a dL/dkernel entry or a dL/dinput pixel, clicked, lists the products behind it.
function explainGradient(fields) {
  const form = document.getElementById("controls");
  if (!form) return;
  for (const [name, value] of Object.entries(fields)) {
    if (form.elements[name]) form.elements[name].value = value;
  }
  form.requestSubmit();
}

document.addEventListener("click", (event) => {
  const cell = event.target.closest("button.kgrad-cell");
  if (cell) {
    explainGradient({ kc: cell.dataset.c, ki: cell.dataset.i, kj: cell.dataset.j });
    return;
  }
  const img = event.target.closest("img.grad-input");
  if (!img) return;
  const box = img.getBoundingClientRect();
  const inH = Number(img.dataset.inH);
  const inW = Number(img.dataset.inW);
  const col = clamp(Math.floor(((event.clientX - box.left) / box.width) * inW), 0, inW - 1);
  const row = clamp(Math.floor(((event.clientY - box.top) / box.height) * inH), 0, inH - 1);
  explainGradient({ xc: img.dataset.channel, xi: row, xj: col });
});

// On a focused dL/dinput image: Enter explains its centre, the arrow keys move the pixel.
document.addEventListener("keydown", (event) => {
  const img = event.target.closest && event.target.closest("img.grad-input");
  const form = document.getElementById("controls");
  if (!img || !form || !form.elements["xi"]) return;
  const inH = Number(img.dataset.inH);
  const inW = Number(img.dataset.inW);
  if (event.key === "Enter") {
    event.preventDefault();
    explainGradient({ xc: img.dataset.channel, xi: Math.floor(inH / 2), xj: Math.floor(inW / 2) });
  } else if (event.key in STEPS) {
    event.preventDefault();
    const [dr, dc] = STEPS[event.key];
    const row = Number(form.elements["xi"].value || Math.floor(inH / 2));
    const col = Number(form.elements["xj"].value || Math.floor(inW / 2));
    explainGradient({ xc: img.dataset.channel, xi: clamp(row + dr, 0, inH - 1), xj: clamp(col + dc, 0, inW - 1) });
  }
});

// ← → anywhere on the page (static/js/keys.js): the explained pixel one step along its map, in
// reading order (the end of a row goes on to the next row), as a click on that pixel would.
document.addEventListener("cnn-keys:filters", (event) => {
  const form = document.getElementById("controls");
  if (!form || !form.elements["row"]) return;
  const map = form.elements["m"] ? form.elements["m"].value || "0" : "0";
  const img = document.getElementById(`fmap-${map}`) || document.querySelector("img.fmap");
  if (!img) return;
  event.preventDefault();
  const outH = Number(img.dataset.outH);
  const outW = Number(img.dataset.outW);
  const row = form.elements["row"].value;
  const col = form.elements["col"].value;
  const here = row === "" || col === "" ? -event.detail.direction : Number(row) * outW + Number(col);
  const next = clamp(here + event.detail.direction, 0, outH * outW - 1);
  explainAt(img, Math.floor(next / outW), next % outW);
});
