// Text lab: a box with a character limit (maxlength) cuts a long paste or drop without a word.
// Say so next to it: how long the text was, the limit, and how much was cut. The box names its
// note with data-cut-note; the note holds the sentence to show in data-message, translated on
// the server, with {total}, {limit} and {dropped} for the numbers.
(() => {
  let cut = null; // { field, value, total }: the last cut, shown again after a swap

  function numbers() {
    return new Intl.NumberFormat(document.documentElement.lang || undefined);
  }

  function noteOf(field) {
    return field && field.dataset.cutNote ? document.getElementById(field.dataset.cutNote) : null;
  }

  function show() {
    const field = cut && document.getElementById(cut.field);
    const note = noteOf(field);
    if (!note) return;
    if (field.value !== cut.value) {
      cut = null;
      note.textContent = "";
      return;
    }
    const limit = Number(field.maxLength);
    const format = numbers();
    note.textContent = note.dataset.message
      .replace("{total}", format.format(cut.total))
      .replace("{limit}", format.format(limit))
      .replace("{dropped}", format.format(cut.total - field.value.length));
  }

  function inserted(event, text, replacesSelection) {
    const field = event.target;
    if (!noteOf(field) || field.maxLength < 0) return;
    // What the box would hold without its limit: the text it keeps and the new text, line
    // breaks as the box keeps them (one character; a space in a one-line input, as Chromium
    // does). A paste replaces the selection; a drop goes in where it falls.
    let added = text.replace(/\r\n?/g, "\n");
    if (field.tagName === "INPUT") added = added.replace(/\n/g, " ");
    const selected = replacesSelection ? field.selectionEnd - field.selectionStart : 0;
    const kept = field.value.length - selected;
    const total = kept + added.length;
    if (total <= field.maxLength) return;
    // After the browser has put in what fits.
    setTimeout(() => {
      cut = { field: field.id, value: field.value, total };
      show();
    });
  }

  document.addEventListener("paste", (event) => {
    inserted(event, event.clipboardData ? event.clipboardData.getData("text/plain") : "", true);
  });
  document.addEventListener("drop", (event) => {
    inserted(event, event.dataTransfer ? event.dataTransfer.getData("text/plain") : "", false);
  });
  // Another edit makes the note out of date; a swap of the lab brings back an empty note.
  document.addEventListener("input", () => {
    if (cut) setTimeout(show);
  });
  document.addEventListener("htmx:afterSettle", show);
})();
