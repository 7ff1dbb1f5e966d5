// Keyboard stepping in every lab (templates/_keys.html draws the legend that says which keys do
// what). The legend names what ← → step and what Space plays, in data attributes:
//   data-keys-step="click:<back button> <forward button>"  the keys press those buttons
//   data-keys-step="control:<select, range or number>"     the keys move it one option or step
//   data-keys-step="stage:<rows>"                          the keys move a highlight along rows
//   data-keys-step="event:<name>"                          the lab's own script steps (filters.js)
//   data-keys-play="click:<button>" or "media:<audio>"     Space presses it, or plays/pauses it
// A key does what the pointer does with the same control, so the request and the pushed URL are
// the same. Keys never act while the user types in a field, with Ctrl, Alt, Meta or Shift held
// (browser shortcuts), or when a lab's own handler (a focused map, the sliding-window player) has
// already taken the key. A button whose form is still waiting for its answer is not pressed
// again: quick presses leave one request in flight; controls are moved at once, and their
// form's hx-sync="this:replace" keeps only the newest request.
(() => {
  "use strict";

  const waiting = new Set(); // elements whose htmx request has not been answered yet
  let announceFrom = null; // the selector whose text is read out once the step's answer settles

  document.addEventListener("htmx:beforeRequest", (event) => waiting.add(event.detail.elt));
  document.addEventListener("htmx:afterRequest", (event) => waiting.delete(event.detail.elt));

  function typing(target) {
    return !!(target.closest && target.closest("input, select, textarea, [contenteditable], audio, video"));
  }

  function visible(element) {
    return !!element && element.getClientRects().length > 0;
  }

  function legend() {
    return document.querySelector("[data-keys]");
  }

  function announce(text) {
    const status = document.querySelector("[data-keys-status]");
    if (status && text) status.textContent = text.replace(/\s+/g, " ").trim();
  }

  function spec(attribute) {
    const value = (legend() && legend().getAttribute(attribute)) || "";
    const colon = value.indexOf(":");
    return colon < 0 ? null : { kind: value.slice(0, colon), rest: value.slice(colon + 1).trim() };
  }

  function labelOf(control) {
    const label = control.labels && control.labels[0];
    return label ? label.textContent : "";
  }

  function press(button) {
    if (!visible(button) || button.disabled || button.getAttribute("aria-disabled") === "true") return false;
    const form = button.form || button.closest("form");
    if ((form && waiting.has(form)) || waiting.has(button)) return true; // that step is still coming
    button.click();
    // htmx takes a clicked button as the submitter of its form's later requests too, until the
    // focus leaves it; a key moved no focus, so say it has gone (else the next ← would send
    // this button's name and value again).
    button.dispatchEvent(new FocusEvent("focusout", { bubbles: true }));
    return true;
  }

  // One option of a select, or one step of a range or number input, then the change event the
  // user's own change would send.
  function move(control, direction) {
    if (!control || control.disabled || !visible(control)) return false;
    const before = control.value;
    if (control.tagName === "SELECT") {
      const index = Math.max(0, Math.min(control.options.length - 1, control.selectedIndex + direction));
      control.selectedIndex = index;
    } else if (control.value === "" && control.type === "number") {
      control.value = control.min || "0";
    } else if (direction > 0) {
      control.stepUp();
    } else {
      control.stepDown();
    }
    control.scrollIntoView({ block: "nearest" }); // what moved, in view (Signals' is far down)
    if (control.value === before) return true; // at its end: nothing to ask
    control.dispatchEvent(new Event("input", { bubbles: true }));
    control.dispatchEvent(new Event("change", { bubbles: true }));
    const shown = control.tagName === "SELECT" ? control.options[control.selectedIndex].text : control.value;
    announce(`${labelOf(control).split(":")[0].trim()}: ${window.localNumber && control.tagName !== "SELECT" ? window.localNumber(shown) : shown}`);
    return true;
  }

  // A highlight walked along rows (the pipeline's layers): nothing to ask the server, but the
  // address says which row (?stage=N, from 1), so a presented view is still a link, the language
  // switch keeps it, and a class following the teacher sees the same row.
  function highlight(rows, next) {
    rows.forEach((row, k) => {
      row.classList.toggle("keys-current", k === next);
      if (k === next) row.setAttribute("aria-current", "step");
      else row.removeAttribute("aria-current");
    });
    rows[next].scrollIntoView({ block: "nearest" });
  }

  function stageRows(selector) {
    return Array.from(document.querySelectorAll(selector)).filter(visible);
  }

  function stage(selector, direction) {
    const rows = stageRows(selector);
    if (!rows.length) return false;
    const now = rows.findIndex((row) => row.classList.contains("keys-current"));
    const next = now < 0 ? (direction > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, now + direction));
    highlight(rows, next);
    addressStage(next);
    const head = rows[next].querySelector("th") || rows[next];
    announce(`${next + 1} / ${rows.length}: ${head.innerText}`); // innerText: a <br> is a space
    return true;
  }

  function addressStage(index) {
    const address = new URL(window.location.href);
    if (address.searchParams.get("stage") === String(index + 1)) return;
    address.searchParams.set("stage", String(index + 1));
    window.history.replaceState(window.history.state, "", address);
    document.body.dispatchEvent(new CustomEvent("cnn:address", { bubbles: true }));
  }

  // A control changed while a row is highlighted: htmx pushes the server's address (before it
  // swaps the rows), which knows nothing of the row; it is added back, and the new rows get it.
  document.addEventListener("htmx:pushedIntoHistory", () => {
    const how = spec("data-keys-step");
    if (!how || how.kind !== "stage") return;
    const now = stageRows(how.rest).findIndex((row) => row.classList.contains("keys-current"));
    if (now >= 0) addressStage(now);
  });

  // The row an address names, once its rows are on the page (at load, and after a swap that
  // drew them again); a number past the last row or not a number names none.
  function restoreStage() {
    const how = spec("data-keys-step");
    if (!how || how.kind !== "stage") return;
    const wanted = new URL(window.location.href).searchParams.get("stage");
    if (!wanted || !/^[0-9]{1,3}$/.test(wanted)) return;
    const rows = stageRows(how.rest);
    const index = Number(wanted) - 1;
    if (index < 0 || index >= rows.length || rows.some((row) => row.classList.contains("keys-current"))) return;
    highlight(rows, index);
  }

  function step(direction) {
    const how = spec("data-keys-step");
    if (!how) return false;
    const after = legend().getAttribute("data-keys-announce");
    if (how.kind === "click") {
      const [back, forward] = how.rest.split(/\s+/);
      announceFrom = after;
      return press(document.querySelector(direction > 0 ? forward : back));
    }
    if (how.kind === "control") return move(document.querySelector(how.rest), direction);
    if (how.kind === "stage") return stage(how.rest, direction);
    if (how.kind === "event") {
      announceFrom = after;
      const asked = new CustomEvent(`cnn-keys:${how.rest}`, { detail: { direction }, cancelable: true });
      const handled = !document.dispatchEvent(asked); // the lab's script cancels what it handled
      if (!handled) announceFrom = null;
      return handled;
    }
    return false;
  }

  function play() {
    const how = spec("data-keys-play");
    if (!how) return false;
    const target = Array.from(document.querySelectorAll(how.rest)).find(visible);
    if (!target) return false;
    target.scrollIntoView({ block: "nearest" }); // the player may sit far down the page
    if (how.kind === "media") {
      if (target.paused) target.play().catch(() => {});
      else target.pause();
      return true;
    }
    return press(target);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restoreStage);
  else restoreStage();

  document.addEventListener("htmx:afterSettle", () => {
    restoreStage();
    if (!announceFrom) return;
    const source = document.querySelector(announceFrom);
    announceFrom = null;
    if (source) announce(source.innerText);
  });

  // On window, so that it runs after every handler on the document and sees their preventDefault.
  window.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (!legend() || typing(event.target) || document.querySelector("dialog[open]")) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      if (step(event.key === "ArrowRight" ? 1 : -1)) event.preventDefault();
    } else if (event.key === " ") {
      // A focused button, link or summary keeps its own Space.
      if (event.target.closest && event.target.closest("button, a, summary, [role='button']")) return;
      if (play()) event.preventDefault();
    }
  });

  // For the labs' own steppers (filters.js, pooling.js, losses.js, optimizers.js).
  window.cnnKeys = { announce, press, move };
})();
