// Signals lab: sliders show their value while moving, and the frame slider previews the output
// frame at once (the server's answer on release then updates the frames it was computed from).
document.addEventListener("input", (event) => {
  const slider = event.target;
  if (slider.type !== "range") return;
  const output = document.getElementById(`${slider.id}-value`);
  if (output) output.textContent = window.localNumber(slider.value);
  if (slider.id === "frame" && slider.dataset.src) {
    const frame = document.getElementById("frame-output");
    if (frame) frame.src = slider.dataset.src + slider.value;
  }
});
