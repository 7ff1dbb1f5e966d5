// The language links carry the current address, which htmx may have changed since the page loaded.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.lang-link");
  if (!link) return;
  const url = new URL(link.href, window.location.href);
  url.searchParams.set("next", window.location.pathname + window.location.search);
  link.href = url.toString();
});

// A control marked data-quiet-change does not refresh its form when changed (the layer editor's
// "add" menu waits for its button). Caught on the way down, before htmx's listener on the form.
document.addEventListener("change", (event) => {
  if (event.target.closest && event.target.closest("[data-quiet-change]")) event.stopPropagation();
}, true);

// A lab is re-rendered by morphing (idiomorph): the nodes stay, so focus stays, and the box
// being typed in keeps what the user typed even if an older answer arrives meanwhile. (Not
// idiomorph's ignoreActiveValue: it also freezes a focused button's label, so a run's Pause,
// once clicked, would never turn into Resume.)
if (window.Idiomorph) {
  window.Idiomorph.defaults.callbacks.beforeAttributeUpdated = (name, element) =>
    !(name === "value" && element === document.activeElement && element.matches("input, textarea"));
}

// --- Mistakes next to the control that caused them ------------------------------------------
// An htmx form's error answer (4xx) lands in the form's error region (X-Error-Target). Each
// message names its control (data-control); one that names none goes next to the control the
// user last changed. The control is marked aria-invalid, and the results the form left behind are
// marked stale, until the next answer that succeeds.

function formOf(elt) {
  if (!elt) return null;
  if (elt.tagName === "FORM") return elt;
  return elt.form || (elt.closest && elt.closest("form")) || null;  // form= or an ancestor
}

function errorRegionOf(form) {
  try {
    const selector = JSON.parse(form.getAttribute("hx-headers") || "{}")["X-Error-Target"];
    return selector ? document.querySelector(selector) : null;
  } catch (error) {
    return null;
  }
}

function findControl(form, name) {
  const inForm = form.elements.namedItem(name);
  const found = inForm instanceof RadioNodeList ? inForm[0] : inForm;
  if (found) return found;
  // A form that includes other forms' fields (hx-include) may be told about one of theirs.
  return document.querySelector(`[name="${CSS.escape(name)}"]:not([type="hidden"])`);
}

function anchorOf(control) {
  if (control.type === "radio" || control.type === "checkbox") {
    return control.closest(".radio-row, ul, .check-row") || control.closest("label") || control;
  }
  return control.closest("label") || control;
}

function resultsOf(form) {
  const selector = form.getAttribute("hx-target");
  const target = selector ? document.querySelector(selector) : null;
  if (!target) return [];
  if (target.matches("[data-result]")) return [target];
  return Array.from(target.querySelectorAll("[data-result]"));
}

function clearMistakes(form) {
  for (const message of form.cnnPlaced || []) message.remove();
  for (const control of form.cnnInvalid || []) {
    control.removeAttribute("aria-invalid");
    control.removeAttribute("aria-describedby");
  }
  form.cnnPlaced = [];
  form.cnnInvalid = [];
  for (const result of resultsOf(form)) {
    delete result.dataset.stale;
    result.querySelectorAll(":scope > .stale-note").forEach((note) => note.remove());
  }
}

function placeMistakes(form, region) {
  clearMistakes(form);
  const bundle = region.querySelector(".placed-errors");
  const messages = Array.from(region.querySelectorAll(".error-message"));
  let count = 0;
  for (const message of messages) {
    const named = message.dataset.control;
    let control = named ? findControl(form, named) : null;
    if (!control && form.cnnLastControl && form.cnnLastControl.isConnected) control = form.cnnLastControl;
    if (!control) continue;
    count += 1;
    message.id = `mistake-${form.id || "form"}-${count}`;
    message.classList.add("field-error");
    anchorOf(control).after(message);
    form.cnnPlaced.push(message);
    if (control.type !== "submit") {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", message.id);
      form.cnnInvalid.push(control);
    }
  }
  if (bundle && !bundle.querySelector(".error-message")) region.replaceChildren();
  if (!region.querySelector(".error-message")) region.replaceChildren();
  const note = bundle && bundle.dataset.staleNote;
  for (const result of note ? resultsOf(form) : []) {
    result.dataset.stale = "";
    const shown = document.createElement("p");
    shown.className = "stale-note";
    shown.setAttribute("role", "status");
    shown.textContent = note || "";
    result.prepend(shown);
  }
  const first = form.cnnPlaced[0] || (region.firstElementChild && region);
  if (first) {
    const box = first.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) first.scrollIntoView({ block: "nearest" });
  }
}

document.addEventListener("htmx:configRequest", (event) => {
  const form = formOf(event.detail.elt);
  const trigger = event.detail.triggeringEvent;
  const control = trigger && (trigger.submitter || trigger.target);
  if (form && control && control !== form && control.matches("input, select, textarea, button")) {
    form.cnnLastControl = control;
  }
});

document.addEventListener("htmx:afterSwap", (event) => {
  const form = formOf(event.detail.requestConfig && event.detail.requestConfig.elt);
  if (!form || !form.isConnected) return;
  const status = event.detail.xhr ? event.detail.xhr.status : 200;
  const region = errorRegionOf(form);
  if (status >= 400 && region && event.detail.target === region) {
    placeMistakes(form, region);
  } else if (status < 400) {
    clearMistakes(form);
    if (region) region.replaceChildren();
    const top = document.getElementById("page-error");
    if (top) top.replaceChildren();
  }
});

// A slider's value as the page writes numbers (0,5 on a Portuguese page), while it moves.
window.localNumber = (text) => {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  return new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 6, useGrouping: false }).format(value);
};

// A whole page that comes back with mistakes (a shared link with a bad value, a reload) shows
// each one next to its control too.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[hx-headers]")) {
    const region = errorRegionOf(form);
    if (region && region.querySelector(".error-message[data-control]")) placeMistakes(form, region);
  }
});

// --- Presentation mode (?present=1, app/web/present.py) --------------------------------------
// The flag lives in the address. htmx requests carry it as a header (a lab's form has no field
// for it), links inside the page keep it, and the enter/leave button switches the address the
// page shows now (htmx may have pushed a new one since the page loaded).
const presenting = () => document.body && document.body.classList.contains("present");

document.addEventListener("htmx:configRequest", (event) => {
  if (presenting()) event.detail.headers["X-Present"] = "1";
});

// A form whose answer sends the browser elsewhere (HX-Redirect: a run just started) goes there
// presenting too.
document.addEventListener("htmx:beforeOnLoad", (event) => {
  const xhr = event.detail.xhr;
  const target = presenting() && xhr && xhr.getResponseHeader("HX-Redirect");
  if (!target) return;
  const url = new URL(target, window.location.href);
  if (url.origin !== window.location.origin || url.searchParams.get("present") === "1") return;
  url.searchParams.set("present", "1");
  event.preventDefault();
  window.location.href = url.toString();
});

document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link) return;
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin) return;
  if (link.hasAttribute("data-present-toggle")) {
    const here = new URL(window.location.href);
    if (presenting()) here.searchParams.delete("present");
    else here.searchParams.set("present", "1");
    link.href = here.toString();
  } else if (presenting() && !url.pathname.startsWith("/static/") && !url.pathname.startsWith("/lang/")
             && url.searchParams.get("present") !== "1" && !link.hasAttribute("download")) {
    url.searchParams.set("present", "1");
    link.href = url.toString();
  }
});

// Chart text at least 16 px on the screen: an SVG's text is sized in its own units, so each
// chart is told how much it is scaled (--svg-scale) and the stylesheet divides by it.
function measureCharts() {
  if (!presenting()) return;
  // The room left under the figure's top on the first screen: the figure and its explanation
  // fit in it (app.css), however tall the lab's heading is.
  const marked = Array.from(document.querySelectorAll('[data-present="figure"], [data-present="explain"]'))
    .filter((element) => element.getClientRects().length);
  if (marked.length) {
    const top = Math.min(...marked.map((element) => element.getBoundingClientRect().top + window.scrollY));
    document.body.style.setProperty("--present-room", `${Math.max(240, window.innerHeight - top - 12)}px`);
  }
  for (const svg of document.querySelectorAll("svg[viewBox]")) {
    const box = svg.viewBox.baseVal;
    const shown = svg.getBoundingClientRect();
    if (!box || !box.width || !box.height || !shown.width || !shown.height) continue;
    const scale = svg.getAttribute("preserveAspectRatio") === "none"
      ? shown.height / box.height
      : Math.min(shown.width / box.width, shown.height / box.height);
    svg.style.setProperty("--svg-scale", scale.toFixed(4));
  }
}
document.addEventListener("DOMContentLoaded", () => {
  measureCharts();
  if (presenting() && window.ResizeObserver) new ResizeObserver(measureCharts).observe(document.body);
});
document.addEventListener("htmx:afterSettle", measureCharts);
document.addEventListener("toggle", measureCharts, true);  // a <details> opened
document.addEventListener("change", (event) => {
  if (event.target.id === "present-all") requestAnimationFrame(measureCharts);
});

// --- The address follows the newest request ----------------------------------------------------
// Two forms of one lab (Signals' sound and slide) each send every field, and their answers may
// come back out of order: the answer to the older request would push an address built from the
// values before the newer change. So an answer pushes its URL only if no request sent after it
// has pushed already; its part of the page is still swapped in.
let requestsSent = 0;
let newestPushed = 0;

document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.xhr) event.detail.xhr.cnnSequence = ++requestsSent;
});

document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
  const history = event.detail.history;
  const sequence = event.detail.xhr && event.detail.xhr.cnnSequence;
  if (!history || !sequence) return;
  if (sequence < newestPushed) {
    // htmx offers no cancel here; replacing the address with itself leaves it as it is.
    history.type = "replace";
    history.path = window.location.pathname + window.location.search + window.location.hash;
  } else {
    newestPushed = sequence;
  }
});
