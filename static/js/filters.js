// Filters lab: clicking (or pressing Enter on) a feature map explains the pixel under the pointer.
function explainAt(img, row, col) {
  const form = document.getElementById("controls");
  if (!form) return;
  form.elements["m"].value = img.dataset.mapIndex;
  form.elements["row"].value = row;
  form.elements["col"].value = col;
  form.requestSubmit();
}

document.addEventListener("click", (event) => {
  const img = event.target.closest("img.fmap");
  if (!img) return;
  const box = img.getBoundingClientRect();
  const outH = Number(img.dataset.outH);
  const outW = Number(img.dataset.outW);
  const col = Math.min(outW - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * outW)));
  const row = Math.min(outH - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * outH)));
  explainAt(img, row, col);
});

document.addEventListener("keydown", (event) => {
  const img = event.target.closest && event.target.closest("img.fmap");
  if (!img || event.key !== "Enter") return;
  // Keyboard users: explain the centre pixel; the row and column fields take it from there.
  explainAt(img, Math.floor(Number(img.dataset.outH) / 2), Math.floor(Number(img.dataset.outW) / 2));
});
