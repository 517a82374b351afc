// A button with data-copy="ID" copies the value of the element ID (the batch page's codes).
// A file of its own: the cabinet's Content-Security-Policy allows no inline handlers.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (source) navigator.clipboard.writeText(source.value);
});
