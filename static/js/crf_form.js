// Each save button of a case report form says which action it is (draft, complete, not done);
// the hidden "action" field carries it. Kept out of the page so the CSP needs no inline script.
document.querySelectorAll("#crf-form button[data-action]").forEach(function (button) {
  button.addEventListener("click", function () {
    button.form.querySelector("input[name=action]").value = button.dataset.action;
  });
});
