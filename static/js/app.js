// The language links carry the current address, which htmx may have changed since the page loaded.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.lang-link");
  if (!link) return;
  const url = new URL(link.href, window.location.href);
  url.searchParams.set("next", window.location.pathname + window.location.search);
  link.href = url.toString();
});
