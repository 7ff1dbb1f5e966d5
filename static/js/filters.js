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
