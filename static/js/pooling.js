// Pooling lab: click the pooled map to explain a cell; sliders show their value while moving;
// the winners overlay can be hidden without a round trip.
function explainCell(row, col) {
  const form = document.getElementById("controls");
  if (!form) return;
  form.elements["prow"].value = row;
  form.elements["pcol"].value = col;
  form.requestSubmit();
}

document.addEventListener("click", (event) => {
  const img = event.target.closest("img#pooled-map");
  if (!img) return;
  const box = img.getBoundingClientRect();
  const outH = Number(img.dataset.outH);
  const outW = Number(img.dataset.outW);
  const col = Math.min(outW - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * outW)));
  const row = Math.min(outH - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * outH)));
  explainCell(row, col);
});

document.addEventListener("keydown", (event) => {
  if (event.target.id !== "pooled-map" || event.key !== "Enter") return;
  event.preventDefault();
  const img = event.target;
  explainCell(Math.floor(Number(img.dataset.outH) / 2), Math.floor(Number(img.dataset.outW) / 2));
});

document.addEventListener("input", (event) => {
  if (event.target.type !== "range") return;
  const output = document.getElementById(`${event.target.id}-value`);
  if (output) output.textContent = window.localNumber(event.target.value);
});

document.addEventListener("change", (event) => {
  if (!event.target.classList.contains("winners-toggle")) return;
  event.stopPropagation(); // display only: no need to ask the server
  const frame = event.target.closest("figure").querySelector(".image-frame");
  frame.classList.toggle("hide-winners", !event.target.checked);
});

// ← → anywhere on the page (static/js/keys.js): the explained pool window one step along the
// pooled map, in reading order, as a click on that cell would.
document.addEventListener("cnn-keys:pooling", (event) => {
  const form = document.getElementById("controls");
  const img = document.getElementById("pooled-map");
  if (!form || !img || !form.elements["prow"]) return;
  event.preventDefault();
  const outH = Number(img.dataset.outH);
  const outW = Number(img.dataset.outW);
  const row = form.elements["prow"].value;
  const col = form.elements["pcol"].value;
  const here = row === "" || col === "" ? -event.detail.direction : Number(row) * outW + Number(col);
  const next = Math.min(outH * outW - 1, Math.max(0, here + event.detail.direction));
  explainCell(Math.floor(next / outW), next % outW);
});
