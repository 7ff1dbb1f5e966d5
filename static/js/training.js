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
