// The sliding window, played, in the Filters and Pooling labs (templates/*/_slide.html): the
// window steps across the input strip, the output cells fill in one by one, and the numbers of the
// current position are shown beside them. The server draws the first step (a page without
// JavaScript shows that much) and embeds what every other step needs as JSON; this file only
// moves and writes. One player per [data-slide] element, found again after every htmx swap: a
// player whose data is unchanged goes on where it was, any other is stopped and replaced, so
// however many answers arrive there is never more than one timer per player.
(() => {
  "use strict";

  const players = new Map(); // [data-slide] element -> its Player
  const SPEED_KEY = "cnn-slide-speed"; // positions a second, kept for the tab's other pages
  const DEFAULT_SPEED = 4;

  // --- Numbers as app/web/numbers.py writes them (Numbers.short) ----------------------------
  // At most `digits` decimals, rounded half to even as Python's round() does, no trailing
  // zeros, no grouping; scientific (Python's %g) from 100,000 on and below 0.001. Rounding works
  // on the exact decimal digits of the double, so it matches the server digit for digit.

  // The exact decimal digits of |value| (< 1e21): [integer part, fraction without trailing 0s].
  function exactDigits(value) {
    const [whole, fraction = ""] = Math.abs(value).toFixed(100).split(".");
    return [whole, fraction.replace(/0+$/, "")];
  }

  // Digits (a string, no point) rounded half to even to their first `keep` digits.
  function roundDigits(digits, keep) {
    if (keep < 0) return "0";
    if (digits.length <= keep) return digits.padEnd(keep, "0");
    const kept = digits.slice(0, keep);
    const rest = digits.slice(keep);
    const last = keep > 0 ? Number(kept[keep - 1]) : 0;
    const up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1));
    if (!up) return kept || "0";
    const carried = (BigInt(kept || "0") + 1n).toString();
    return carried.padStart(keep, "0");
  }

  function withoutZeros(text) {
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }

  // Python's f"{value:.{digits}g}".
  function general(value, digits) {
    const [whole, fraction] = exactDigits(value);
    const all = (whole + fraction).replace(/^0+/, "");
    const shift = whole.replace(/^0+/, "").length; // digits before the point, leading 0s off
    let exponent = shift > 0 ? shift - 1 : -(fraction.length - fraction.replace(/^0+/, "").length) - 1;
    let mantissa = roundDigits(all, digits);
    if (mantissa.length > digits) { // 9.995 -> 10.0: one digit more
      mantissa = mantissa.slice(0, digits);
      exponent += 1;
    }
    const sign = value < 0 ? "-" : "";
    if (exponent < -4 || exponent >= digits) {
      const body = withoutZeros(`${mantissa[0]}.${mantissa.slice(1)}`);
      const power = String(Math.abs(exponent)).padStart(2, "0");
      return `${sign}${body}e${exponent < 0 ? "-" : "+"}${power}`;
    }
    const decimals = digits - 1 - exponent;
    return sign + withoutZeros(fixedDigits(value, decimals));
  }

  // |value| rounded half to even to `decimals` decimals, as "12.340".
  function fixedDigits(value, decimals) {
    const [whole, fraction] = exactDigits(value);
    const digits = roundDigits(whole + fraction, whole.length + decimals);
    const point = digits.length - decimals;
    const head = digits.slice(0, point).replace(/^0+(?=\d)/, "") || "0";
    return decimals > 0 ? `${head}.${digits.slice(point)}` : head;
  }

  function shortNumber(value, digits, decimal) {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
    const size = Math.abs(value);
    if (size >= 1e5 || (size > 0 && size < 1e-3)) return general(value, digits).replace(".", decimal);
    const text = withoutZeros(fixedDigits(value, digits));
    const negative = value < 0 && /[1-9]/.test(text); // no "-0", as the server's + 0.0
    return (negative ? "-" : "") + text.replace(".", decimal);
  }

  // --- Speed ----------------------------------------------------------------------------------

  function savedSpeed() {
    try {
      const value = Number(window.sessionStorage.getItem(SPEED_KEY));
      return value >= 1 && value <= 20 ? value : DEFAULT_SPEED;
    } catch (error) {
      return DEFAULT_SPEED;
    }
  }

  function saveSpeed(value) {
    try {
      window.sessionStorage.setItem(SPEED_KEY, String(value));
    } catch (error) {
      // private mode: the speed is kept by this page only
    }
  }

  // --- The player -----------------------------------------------------------------------------

  class Player {
    constructor(root, text) {
      this.root = root;
      this.text = text;
      this.data = JSON.parse(text);
      const out = this.data.out;
      this.total = out.rows * out.cols;
      const region = this.data.region;
      if (region.usedRows) { // Filters: the region's values, sent for the rows and columns used
        this.rowAt = new Map(region.usedRows.map((row, k) => [row, k]));
        this.colAt = new Map(region.usedCols.map((col, k) => [col, k]));
      }
      this.position = 0;
      this.timer = null;
      this.speed = savedSpeed();
      this.refresh();
    }

    // (Re)reads the elements, which a morph may have replaced, and draws the current step.
    refresh() {
      const find = (selector) => this.root.querySelector(selector);
      this.cells = Array.from(this.root.querySelectorAll(".slide-cell"));
      this.windowBox = find("[data-slide-window]");
      this.status = find("[data-slide-status]");
      this.playButton = find("[data-slide-play]");
      this.backButton = find("[data-slide-back]");
      this.stepButton = find("[data-slide-step]");
      this.speedInput = find("[data-slide-speed]");
      this.speedShown = find("[data-slide-speed-value]");
      // What only works with this script: the buttons, and the hint that cells can be clicked.
      this.root.querySelectorAll("[data-slide-controls]").forEach((part) => { part.hidden = false; });
      if (this.speedInput) this.speedInput.value = String(this.speed);
      if (this.speedShown) this.speedShown.textContent = window.localNumber ? window.localNumber(this.speed) : this.speed;
      this.showPlaying();
      this.show(this.position);
    }

    number(value, digits = 3) {
      return shortNumber(value, digits, this.data.decimal);
    }

    isPadding(row, col) {
      const { height, width } = this.data.input;
      return row < 0 || row >= height || col < 0 || col >= width;
    }

    show(position) {
      this.position = Math.max(0, Math.min(this.total - 1, position));
      const { out, region, stride, dilation, window: size } = this.data;
      const i = Math.floor(this.position / out.cols);
      const j = this.position % out.cols;
      const spanRows = dilation * (size.rows - 1) + 1;
      const spanCols = dilation * (size.cols - 1) + 1;
      if (this.windowBox) {
        const box = this.windowBox.style;
        box.top = `${(100 * i * stride) / region.rows}%`;
        box.left = `${(100 * j * stride) / region.cols}%`;
        box.height = `${(100 * spanRows) / region.rows}%`;
        box.width = `${(100 * spanCols) / region.cols}%`;
      }
      this.cells.forEach((cell, k) => {
        const filled = k <= this.position;
        const r = Math.floor(k / out.cols);
        const c = k % out.cols;
        cell.classList.toggle("filled", filled);
        cell.classList.toggle("current", k === this.position);
        cell.style.backgroundColor = filled ? out.colour[r][c] : "";
        cell.title = filled ? out.text[r][c] : "";
      });
      if (this.status && this.status.dataset.template) {
        const top = region.top + i * stride;
        const left = region.left + j * stride;
        const values = {
          n: this.position + 1, total: this.total, row: out.top + i, col: out.left + j,
          r0: top, r1: top + spanRows - 1, c0: left, c1: left + spanCols - 1,
        };
        this.status.textContent = this.status.dataset.template.replace(/\{(\w+)\}/g, (m, key) => values[key]);
      }
      if (this.data.kind === "conv") this.showProducts(i, j);
      else this.showWindow(i, j);
      const value = this.root.querySelector("[data-slide-value]");
      if (value) value.textContent = out.text[i][j];
      if (this.backButton) this.backButton.setAttribute("aria-disabled", String(this.position === 0));
      if (this.stepButton) this.stepButton.setAttribute("aria-disabled", String(this.position === this.total - 1));
    }

    // Filters: the patch under the kernel, the products (written here), their sums.
    showProducts(i, j) {
      const { region, kernel, stride, dilation, sums, totals } = this.data;
      kernel.forEach((channel, c) => {
        const patch = this.root.querySelector(`[data-slide-patch="${c}"]`);
        const products = this.root.querySelector(`[data-slide-products="${c}"]`);
        if (!patch || !products) return;
        const patchCells = patch.querySelectorAll("td");
        const productCells = products.querySelectorAll("td");
        channel.forEach((kernelRow, a) => {
          kernelRow.forEach((weight, b) => {
            const k = a * kernelRow.length + b;
            const r = i * stride + a * dilation;
            const s = j * stride + b * dilation;
            const value = region.values[c][this.rowAt.get(r)][this.colAt.get(s)];
            const pad = this.isPadding(region.top + r, region.left + s);
            patchCells[k].textContent = this.number(value);
            patchCells[k].classList.toggle("slide-pad", pad);
            productCells[k].textContent = this.number(value * weight);
            productCells[k].classList.toggle("slide-pad", pad);
          });
        });
        this.root.querySelectorAll(`[data-slide-sum="${c}"]`).forEach((sum) => {
          sum.textContent = sums[i][j][c];
        });
      });
      const total = this.root.querySelector("[data-slide-total]");
      if (total) total.textContent = totals[i][j];
    }

    // Pooling: the window's values, its winner (max) or the terms of its mean (average).
    showWindow(i, j) {
      const { region, stride, window: size, winners } = this.data;
      const table = this.root.querySelector("[data-slide-values]");
      if (!table) return;
      const cells = table.querySelectorAll("td");
      const terms = [];
      for (let a = 0; a < size.rows; a += 1) {
        for (let b = 0; b < size.cols; b += 1) {
          const k = a * size.cols + b;
          const r = i * stride + a;
          const s = j * stride + b;
          cells[k].textContent = region.text[r][s];
          cells[k].classList.toggle("slide-pad", this.isPadding(region.top + r, region.left + s));
          cells[k].classList.toggle("slide-winner", !!winners && winners[i][j] === k);
          terms.push(region.text[r][s]);
        }
      }
      const sum = this.root.querySelector("[data-slide-terms]");
      if (sum) sum.textContent = terms.join(" + ");
    }

    showPlaying() {
      if (!this.playButton) return;
      const playing = this.timer !== null;
      this.playButton.textContent = playing ? this.playButton.dataset.pause : this.playButton.dataset.play;
      this.playButton.setAttribute("aria-pressed", String(playing));
      // Announced when stepped, not four times a second while playing.
      if (this.status) this.status.setAttribute("aria-live", playing ? "off" : "polite");
    }

    play() {
      if (this.timer !== null) return;
      if (this.position >= this.total - 1) this.show(0);
      const player = this;
      this.timer = window.setInterval(function slideTick() { player.advance(); }, 1000 / this.speed);
      this.showPlaying();
    }

    stop() {
      if (this.timer === null) return;
      window.clearInterval(this.timer);
      this.timer = null;
      this.showPlaying();
    }

    toggle() {
      if (this.timer === null) this.play();
      else this.stop();
    }

    advance() {
      if (!this.root.isConnected) {
        this.stop();
        return;
      }
      this.show(this.position + 1);
      if (this.position >= this.total - 1) this.stop();
    }

    step(direction) {
      this.stop();
      this.show(this.position + direction);
    }

    setSpeed(value) {
      this.speed = Math.max(1, Math.min(20, Number(value) || DEFAULT_SPEED));
      saveSpeed(this.speed);
      if (this.speedShown) this.speedShown.textContent = window.localNumber ? window.localNumber(this.speed) : this.speed;
      if (this.timer !== null) { // the new pace at once
        this.stop();
        this.play();
      }
    }
  }

  // Every player on the page, after the page loads and after each htmx answer.
  function scan() {
    for (const [root, player] of players) {
      if (!root.isConnected) {
        player.stop();
        players.delete(root);
      }
    }
    for (const root of document.querySelectorAll("[data-slide]")) {
      const source = root.querySelector("[data-slide-data]");
      if (!source) continue;
      const text = source.getAttribute("data-slide-data");
      const old = players.get(root);
      if (old && old.text === text) {
        old.refresh(); // the morph may have drawn the first step again over ours
        continue;
      }
      if (old) old.stop();
      try {
        players.set(root, new Player(root, text));
      } catch (error) {
        players.delete(root); // the server's first step stays shown
      }
    }
  }

  function playerOf(element) {
    const root = element && element.closest ? element.closest("[data-slide]") : null;
    return root ? players.get(root) : undefined;
  }

  document.addEventListener("click", (event) => {
    const cell = event.target.closest && event.target.closest(".slide-cell");
    if (cell && playerOf(cell)) { // a cell of the output: the window jumps to its position
      const player = playerOf(cell);
      player.stop();
      player.show(player.cells.indexOf(cell));
      return;
    }
    const button = event.target.closest && event.target.closest("[data-slide-play], [data-slide-step], [data-slide-back]");
    const player = button && playerOf(button);
    if (!player || button.getAttribute("aria-disabled") === "true") return;
    if (button.hasAttribute("data-slide-play")) player.toggle();
    else player.step(button.hasAttribute("data-slide-step") ? 1 : -1);
  });

  document.addEventListener("input", (event) => {
    if (!event.target.matches || !event.target.matches("[data-slide-speed]")) return;
    const player = playerOf(event.target);
    if (player) player.setSpeed(event.target.value);
  });

  // ← → step and Space plays or pauses while the focus is in the player; the speed slider keeps
  // its own arrow keys, and links keep theirs.
  document.addEventListener("keydown", (event) => {
    const player = playerOf(event.target);
    if (!player || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.matches("input, select, textarea, a")) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      player.step(event.key === "ArrowRight" ? 1 : -1);
    } else if (event.key === " ") {
      event.preventDefault(); // not a click on the focused button as well
      player.toggle();
    }
  });

  // A hidden tab, or a page left, stops playing.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) for (const player of players.values()) player.stop();
  });
  window.addEventListener("pagehide", () => {
    for (const player of players.values()) player.stop();
  });

  for (const name of ["htmx:afterSwap", "htmx:afterSettle", "htmx:historyRestore"]) {
    document.addEventListener(name, scan);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();

  // For the browser tests: the formatter, to hold it against the server's.
  window.cnnSlide = { shortNumber };
})();
