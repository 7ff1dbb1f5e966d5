// Train on your own classes: pictures from the camera while a class's button is held, large file
// choices sent in batches, and "try it" live on the camera. The camera itself is camera.js's.
(function () {
  const CAPTURE_EVERY = 250;  // ms between camera shots while a button is held (4 a second)
  const BATCH = 8;  // camera shots per request
  const BATCH_BYTES = 6 * 1024 * 1024;  // files per request stay under the server's body limit
  const FRAME_SIDE = 256;

  const camera = () => window.CnnCamera;
  const byId = (id) => document.getElementById(id);

  // --- sending pictures: one request in flight, the panel swapped in when it answers ---------

  const waiting = [];  // {url, files, error}
  let sending = false;

  function swapPictures(html) {
    const old = byId("own-pictures");
    if (!old) return;
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const fresh = holder.querySelector("#own-pictures");
    if (!fresh) return;
    old.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    showCaptureButtons();
    document.body.dispatchEvent(new CustomEvent("own-set-changed", { bubbles: true }));
  }

  function showError(selector, html) {
    const region = selector && document.querySelector(selector);
    if (region) region.innerHTML = html;
  }

  async function pump() {
    if (sending) return;
    sending = true;
    try {
      while (waiting.length) {
        const job = waiting.shift();
        const body = new FormData();
        for (const [file, name] of job.files) body.append("pictures", file, name);
        const response = await fetch(job.url, {
          method: "POST", body, headers: { "HX-Request": "true", "X-Error-Target": job.error },
        });
        const html = await response.text();
        if (response.ok) {
          showError(job.error, "");
          swapPictures(html);
        } else {
          showError(job.error, html);
          waiting.length = 0;  // the set is unchanged; the rest would be refused the same way
          stopCapture();
        }
      }
    } catch (error) {
      waiting.length = 0;
      stopCapture();
    } finally {
      sending = false;
    }
  }

  function send(url, files, error) {
    waiting.push({ url, files, error });
    pump();
  }

  // --- the camera on the pictures page ---------------------------------------------------------

  let cameraOn = false;

  function showCaptureButtons() {
    document.querySelectorAll("[data-own-capture]").forEach((button) => { button.hidden = !cameraOn; });
  }

  // Starts the camera into `video`, or says in `message` why it cannot; true when it runs.
  async function openCamera(video, message) {
    if (!video || !camera()) return false;
    camera().explain("", message);
    try {
      await camera().open(video);
    } catch (error) {
      camera().explain(error.reason || "failed", message);
      return false;
    }
    video.hidden = false;
    return true;
  }

  async function startCamera() {
    if (!(await openCamera(byId("own-video"), byId("own-camera-message")))) return;
    cameraOn = true;
    byId("own-camera-start").hidden = true;
    byId("own-camera-stop").hidden = false;
    showCaptureButtons();
  }

  function stopCamera() {
    const video = byId("own-video");
    stopCapture();
    if (video && camera()) camera().close(video);
    if (video) video.hidden = true;
    cameraOn = false;
    const start = byId("own-camera-start");
    const stop = byId("own-camera-stop");
    if (start) start.hidden = false;
    if (stop) stop.hidden = true;
    showCaptureButtons();
  }

  let capture = null;  // {url, error, shots, timer, button}

  function startCapture(button) {
    if (capture || !cameraOn) return;
    const video = byId("own-video");
    capture = { url: button.dataset.ownCapture, error: button.dataset.error, shots: [], timer: 0 };
    button.setAttribute("aria-pressed", "true");
    const take = async () => {
      const now = capture;
      if (!now) return;
      try {
        const blob = await camera().frame(video, FRAME_SIDE, 0.85);
        now.shots.push([blob, `camera-${Date.now()}-${now.shots.length}.jpg`]);
        if (now.shots.length >= BATCH) {
          send(now.url, now.shots.splice(0), now.error);
        }
      } catch (error) {
        camera().explain(error.reason || "failed", byId("own-camera-message"));
        stopCapture();
      }
    };
    take();
    capture.timer = setInterval(take, CAPTURE_EVERY);
  }

  function stopCapture() {
    const now = capture;
    if (!now) return;
    capture = null;
    clearInterval(now.timer);
    document.querySelectorAll("[data-own-capture][aria-pressed]").forEach((b) => b.removeAttribute("aria-pressed"));
    if (now.shots.length) send(now.url, now.shots.splice(0), now.error);
  }

  document.addEventListener("pointerdown", (event) => {
    const button = event.target.closest && event.target.closest("[data-own-capture]");
    if (!button) return;
    event.preventDefault();  // no text selection or long-press menu while held
    startCapture(button);
  });
  ["pointerup", "pointercancel"].forEach((name) => document.addEventListener(name, stopCapture));
  document.addEventListener("keydown", (event) => {
    const button = event.target.closest && event.target.closest("[data-own-capture]");
    if (!button || event.repeat || (event.key !== " " && event.key !== "Enter")) return;
    event.preventDefault();
    startCapture(button);
  });
  document.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") stopCapture();
  });
  document.addEventListener("contextmenu", (event) => {
    if (event.target.closest && event.target.closest("[data-own-capture]")) event.preventDefault();
  });

  // --- files: chosen files are sent at once, in batches the server takes ----------------------

  function sendFiles(form) {
    const input = form.querySelector('input[type="file"]');
    const files = Array.from((input && input.files) || []);
    if (!files.length) return false;
    const maxFiles = Number(form.dataset.maxFiles) || 20;
    const error = JSON.parse(form.getAttribute("hx-headers") || "{}")["X-Error-Target"];
    let batch = [];
    let bytes = 0;
    for (const file of files) {
      if (batch.length && (batch.length >= maxFiles || bytes + file.size > BATCH_BYTES)) {
        send(form.dataset.ownUpload, batch, error);
        batch = [];
        bytes = 0;
      }
      batch.push([file, file.name]);
      bytes += file.size;
    }
    send(form.dataset.ownUpload, batch, error);
    input.value = "";
    return true;
  }

  // Caught on the way down, before htmx's own listener on the form.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.ownUpload) return;
    const input = form.querySelector('input[type="file"]');
    if (!input || !input.files || !input.files.length) return;  // htmx asks, the server says why
    event.preventDefault();
    event.stopPropagation();
    sendFiles(form);
  }, true);
  document.addEventListener("change", (event) => {
    const input = event.target;
    const form = input && input.form;
    if (form && form.dataset.ownUpload && input.type === "file") sendFiles(form);
  });

  // --- try it live: the next frame goes once the last answer is back ---------------------------

  let live = null;

  async function startLive(button) {
    const video = byId("own-live-video");
    const message = byId("own-live-message");
    if (!(await openCamera(video, message))) return;
    button.hidden = true;
    byId("own-live-stop").hidden = false;
    const session = { url: button.dataset.ownLive };
    live = session;
    while (live === session) {
      try {
        const blob = await camera().frame(video, FRAME_SIDE, 0.85);
        const body = new FormData();
        body.append("image", blob, "camera.jpg");
        const response = await fetch(session.url, {
          method: "POST", body, headers: { "HX-Request": "true", "X-Error-Target": "#own-predict-error" },
        });
        const html = await response.text();
        if (live !== session) break;
        if (response.ok) {
          showError("#own-predict-error", "");
          const target = byId("own-prediction");
          if (target) target.innerHTML = html;
        } else {
          showError("#own-predict-error", html);
          break;
        }
      } catch (error) {
        camera().explain(error.reason || "failed", message);
        break;
      }
    }
    if (live === session) stopLive();
  }

  function stopLive() {
    live = null;
    const video = byId("own-live-video");
    if (video && camera()) camera().close(video);
    if (video) video.hidden = true;
    const start = byId("own-live-start");
    const stop = byId("own-live-stop");
    if (start) start.hidden = false;
    if (stop) stop.hidden = true;
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest && event.target.closest("button");
    if (!target) return;
    if (target.id === "own-camera-start") startCamera();
    else if (target.id === "own-camera-stop") stopCamera();
    else if (target.id === "own-live-start") startLive(target);
    else if (target.id === "own-live-stop") stopLive();
  });
  document.addEventListener("htmx:afterSettle", showCaptureButtons);
  window.addEventListener("pagehide", () => { stopCamera(); stopLive(); });
})();
