// Insert a standard answer from the knowledge base into the reply box (no inline scripts: the CSP forbids them).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-insert-answer]");
  if (!button) return;
  const box = document.querySelector("textarea[name=text]");
  if (!box) return;
  box.value = box.value ? `${box.value}\n${button.dataset.insertAnswer}` : button.dataset.insertAnswer;
  box.focus();
});
