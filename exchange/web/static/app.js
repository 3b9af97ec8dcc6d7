// Small progressive enhancements; every page works without this file.
// - [data-confirm] buttons ask before submitting;
// - Alt+S submits the form that has focus (fast keyboard use at a busy counter).
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.altKey && (event.key === "s" || event.key === "S")) {
    const form = document.activeElement && document.activeElement.form;
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  }
});
