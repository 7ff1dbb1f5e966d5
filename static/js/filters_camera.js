// Filters lab, "Camera (live)" source: frames from static/js/camera.js go to the server one at a
// time (the next only once the last answer is back, so a slow network never builds a queue),
// with the lab's current controls, and the feature maps come back as one JPEG. "Freeze" sends
// the frame shown through the lab's own upload form, so it becomes an upload:<id> picture.
(function () {
  const LONG_SIDE = 256;
  const QUALITY = 0.8;
  const RETRY_MS = 1000;  // after a refused frame (a setting being fixed): no hammering
  const FPS_WINDOW_MS = 2000;

  const state = {
    video: null,  // the <video> the camera plays into, while it runs
    running: false,
    reason: null,  // why the camera did not start, shown again after the lab is re-rendered
    mapUrl: null,  // object URL of the maps shown, set again after a re-render
    lastFrame: null,  // the frame whose maps are shown: what Freeze keeps
    answers: [],  // times of the last answers, for the rate
    failing: false,  // the last frame was refused (a setting being fixed)
    scales: "",
  };

  const byId = (id) => document.getElementById(id);
  const number = (value, digits) =>
    new Intl.NumberFormat(document.documentElement.lang || undefined, {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(value);

  function show() {
    const start = byId("camera-start");
    const stop = byId("camera-stop");
    const freeze = byId("camera-freeze");
    if (start) start.hidden = state.running;
    if (stop) stop.hidden = !state.running;
    if (freeze) freeze.disabled = !(state.running && state.lastFrame);
    const message = byId("camera-message");
    if (message && window.CnnCamera) window.CnnCamera.explain(state.reason, message);
    const map = byId("camera-map");
    if (map && state.mapUrl && map.getAttribute("src") !== state.mapUrl) map.src = state.mapUrl;
    const scales = byId("camera-scales");
    if (scales) scales.textContent = state.scales;
    showRate();
  }

  function showRate() {
    const fps = byId("camera-fps");
    if (!fps) return;
    const now = performance.now();
    state.answers = state.answers.filter((t) => now - t <= FPS_WINDOW_MS);
    if (!state.running) {
      fps.textContent = fps.dataset.off;
    } else if (state.failing) {
      fps.textContent = fps.dataset.template.replace("{fps}", number(0, 1));  // no maps come back
    } else if (state.answers.length < 2) {
      fps.textContent = fps.dataset.starting;
    } else {
      const span = (state.answers[state.answers.length - 1] - state.answers[0]) / 1000;
      const rate = span > 0 ? (state.answers.length - 1) / span : 0;
      fps.textContent = fps.dataset.template.replace("{fps}", number(rate, 1));
    }
  }

  function scaleText(header) {
    const panel = byId("camera-live");
    if (!panel || !header) return "";
    return header.split(" ").map((entry, index) => {
      const [, low, high] = entry.split(":").map(Number);
      return panel.dataset.scaleTemplate
        .replace("{n}", number(index + 1, 0))
        .replace("{low}", number(low, 1))
        .replace("{high}", number(high, 1));
    }).join("; ");
  }

  async function start() {
    const video = byId("camera-video");
    if (!video || state.running) return;
    state.reason = null;
    state.lastFrame = null;
    state.answers = [];
    state.failing = false;
    show();
    const fps = byId("camera-fps");
    if (fps) fps.textContent = fps.dataset.starting;
    try {
      await window.CnnCamera.open(video);
    } catch (error) {
      state.reason = error.reason || "failed";
      show();
      return;
    }
    state.video = video;
    state.running = true;
    show();
    loop(video);
  }

  function stop() {
    state.running = false;
    if (state.video) window.CnnCamera.close(state.video);
    state.video = null;
    show();
  }

  async function loop(video) {
    while (state.running && state.video === video && document.contains(video)) {
      if (document.hidden) {
        // A tab in the background sends nothing: a class's hidden tabs cost the server no work.
        await new Promise((resolve) => document.addEventListener("visibilitychange", resolve, { once: true }));
        state.answers = [];
        continue;
      }
      const form = byId("controls");
      const errors = byId("camera-error");
      let frame;
      try {
        frame = await window.CnnCamera.frame(video, LONG_SIDE, QUALITY);
      } catch (error) {
        state.reason = "failed";
        stop();
        return;
      }
      if (document.hidden) continue;  // hidden while the frame was encoded: send nothing
      const body = new FormData(form);
      body.set("frame", frame, "frame.jpg");
      let answer = null;
      try {
        answer = await fetch(byId("camera-live").dataset.frameUrl, {
          method: "POST",
          body,
          headers: { "HX-Request": "true", "X-Error-Target": "#camera-error" },
        });
      } catch (error) {
        answer = null;  // the network is down: try again in a moment
      }
      if (!state.running || state.video !== video) return;
      if (answer && answer.ok) {
        const picture = await answer.blob();
        if (state.mapUrl) URL.revokeObjectURL(state.mapUrl);
        state.mapUrl = URL.createObjectURL(picture);
        state.lastFrame = frame;
        state.scales = scaleText(answer.headers.get("X-Map-Scales"));
        state.answers.push(performance.now());
        state.failing = false;
        if (errors) errors.textContent = "";
        show();
      } else {
        // Our own escaped message fragment (templates/_placed_errors.html), as htmx would swap it.
        if (errors) errors.innerHTML = answer ? await answer.text() : "";
        state.answers = [];
        state.failing = true;
        show();
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  function freeze() {
    const frame = state.lastFrame;
    const upload = byId("upload-form");
    const input = upload && upload.elements["image"];
    if (!frame || !input) return;
    stop();  // leaving the camera for the frozen picture
    const files = new DataTransfer();
    files.items.add(new File([frame], "camera.jpg", { type: "image/jpeg" }));
    input.files = files.files;
    upload.requestSubmit();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button");
    if (!button) return;
    if (button.id === "camera-start") start();
    else if (button.id === "camera-stop") stop();
    else if (button.id === "camera-freeze") freeze();
  });

  // The lab is re-rendered by morphing: the <video> stays (and plays on) while the camera is
  // still the source; once it is gone (another picture chosen, a frozen frame) the camera stops.
  function settle() {
    if (state.video && !document.contains(state.video)) stop();
    const video = byId("camera-video");
    if (!video) {
      state.reason = null;
      state.mapUrl = null;
      return;
    }
    if (!state.running && !state.reason && !started.has(video)) {
      started.add(video);  // once per panel: Stop means stop, whatever is re-rendered after
      start();
    }
    show();
  }

  const started = new WeakSet();
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", settle);
  window.addEventListener("pagehide", stop);
})();
