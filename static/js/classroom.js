// The class bar (templates/classroom/_bar.html), loaded only for a browser in a class.
// Teacher: each lab view they open or change (htmx pushes it into the address bar) is reported to
// the class, which the students' pages then follow. Student: the class's event stream (htmx's SSE
// extension) says which view the teacher is on; a following page goes there.
(function () {
  const bar = document.querySelector(".class-bar");
  if (!bar) return;
  const code = bar.dataset.classCode;
  const here = () => window.location.pathname + window.location.search;

  if (bar.dataset.classRole === "teacher") {
    const labs = (bar.dataset.labPaths || "").split(" ").filter(Boolean);
    const isLab = (path) => labs.some((lab) => path === lab || path.startsWith(lab + "/"));
    let reported = null;
    const report = () => {
      const url = here();
      if (url === reported || !isLab(window.location.pathname)) return;
      reported = url;
      fetch(`/class/${code}/view`, {
        method: "POST",
        credentials: "same-origin",
        body: new URLSearchParams({ url }),
      }).then((response) => { if (!response.ok) reported = null; })
        .catch(() => { reported = null; });
    };
    report();
    document.body.addEventListener("htmx:pushedIntoHistory", report);
    document.body.addEventListener("htmx:replacedInHistory", report);
    document.body.addEventListener("cnn:address", report); // keys.js: the pipeline's row
    window.addEventListener("popstate", report);
    return;
  }

  const following = () => {
    const status = document.getElementById("class-follow");
    return status && status.dataset.following === "1";
  };
  bar.addEventListener("htmx:sseMessage", (event) => {
    const type = event.detail && event.detail.type;
    if (type === "view") {
      const signal = bar.querySelector(".class-view-signal [data-url]");
      const url = signal && signal.getAttribute("data-url");
      if (url && url.startsWith("/") && !url.startsWith("//") && following() && url !== here()) {
        window.location.assign(url);
      }
    }
  });
  // The class ended: the stream closes (sse-close) and the bar says so.
  bar.addEventListener("htmx:sseClose", (event) => {
    if (event.detail && event.detail.type === "message") {
      bar.textContent = bar.dataset.ended;
      bar.classList.add("class-bar-ended");
    }
  });
})();
