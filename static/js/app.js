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
