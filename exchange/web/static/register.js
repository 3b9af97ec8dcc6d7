// The register form, enhanced; it works the same without this file.
// - after "add another ..." the server names the new block's first field (data-focus): focus it, so the
//   officer keeps typing where the new block is instead of at the top of the page; after a refusal, focus
//   the first field marked invalid;
// - the "share only with" countries field is shown only when that sharing choice is selected;
// - a second click on Save while the first is on its way is ignored (a correction saved twice would meet its
//   own new version and be refused as stale).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.record-form");
  if (!form) {
    return;
  }
  // the block just added, else the first field the API refused
  const target = (form.dataset.focus && document.getElementById(form.dataset.focus)) ||
    form.querySelector("[aria-invalid='true']");
  if (target) {
    target.focus();
    target.scrollIntoView({block: "center"});
  }
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
    } else {
      form.dataset.sent = "1";
    }
  });
  window.addEventListener("pageshow", () => { delete form.dataset.sent; });  // back to the page: usable again
  const mode = document.getElementById("f-sharing_mode");
  const countries = document.getElementById("f-sharing");
  if (mode && countries) {
    const field = countries.closest(".field");
    const sync = () => { field.hidden = mode.value !== "only" && !countries.value; };
    mode.addEventListener("change", sync);
    sync();
  }
});
