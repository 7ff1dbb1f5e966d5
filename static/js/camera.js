// The camera, shared by the labs that use it (Filters' live source, Training's own classes).
//
//   await CnnCamera.open(video)      starts the camera into <video>; rejects with an Error whose
//                                    .reason is "insecure" | "unsupported" | "denied" | "none" | "failed"
//   await CnnCamera.frame(video, longSide = 256, quality = 0.8)   a JPEG Blob of the current frame,
//                                    at most longSide pixels on its long side
//   CnnCamera.close(video)           stops the camera's tracks (the browser's camera light goes off)
//   CnnCamera.explain(reason, el)    writes the translated message for reason into el (role=alert),
//                                    from the data-camera-<reason> attributes that the template
//                                    _camera_messages.html renders; a falsy reason clears el.
(function () {
  const REASONS = ["insecure", "unsupported", "denied", "none", "failed"];

  function refusal(reason, cause) {
    const error = new Error(`camera: ${reason}${cause && cause.name ? ` (${cause.name})` : ""}`);
    error.reason = reason;
    error.cause = cause;
    return error;
  }

  // getUserMedia's DOMException names -> what the user can do about it.
  function reasonOf(error) {
    const name = error && error.name;
    if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") return "denied";
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return "none";
    return "failed";
  }

  function whenPlaying(video) {
    if (video.readyState >= 2 && video.videoWidth > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        video.removeEventListener("loadeddata", done);
        video.removeEventListener("error", failed);
        resolve();
      };
      const failed = () => {
        video.removeEventListener("loadeddata", done);
        video.removeEventListener("error", failed);
        reject(refusal("failed"));
      };
      video.addEventListener("loadeddata", done);
      video.addEventListener("error", failed);
    });
  }

  async function open(video) {
    // Browsers hide navigator.mediaDevices on plain HTTP away from localhost: say that, not "unsupported".
    if (window.isSecureContext === false) throw refusal("insecure");
    const devices = navigator.mediaDevices;
    if (!devices || typeof devices.getUserMedia !== "function") throw refusal("unsupported");
    if (video.srcObject) close(video);
    let stream;
    try {
      stream = await devices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
        audio: false,
      });
    } catch (error) {
      throw refusal(reasonOf(error), error);
    }
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    try {
      await video.play();
      await whenPlaying(video);
    } catch (error) {
      close(video);
      throw error.reason ? error : refusal("failed", error);
    }
    return stream;
  }

  function close(video) {
    const stream = video && video.srcObject;
    if (stream && typeof stream.getTracks === "function") {
      for (const track of stream.getTracks()) track.stop();
    }
    if (video) video.srcObject = null;
  }

  // One canvas per video, reused from frame to frame.
  const canvases = new WeakMap();

  async function frame(video, longSide = 256, quality = 0.8) {
    await whenPlaying(video);
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) throw refusal("failed");
    const scale = Math.min(1, longSide / Math.max(width, height));  // never enlarged
    let canvas = canvases.get(video);
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvases.set(video, canvas);
    }
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(refusal("failed"))), "image/jpeg", quality);
    });
  }

  function explain(reason, element) {
    if (!element) return;
    if (!reason) {
      element.textContent = "";
      element.hidden = true;
      return;
    }
    const holder = element.closest("[data-camera-messages]") || document.querySelector("[data-camera-messages]");
    const key = REASONS.includes(reason) ? reason : "failed";
    const text = holder && holder.getAttribute(`data-camera-${key}`);
    element.setAttribute("role", "alert");
    element.textContent = text || key;
    element.hidden = false;
  }

  window.CnnCamera = { open, frame, close, explain, REASONS };
})();
