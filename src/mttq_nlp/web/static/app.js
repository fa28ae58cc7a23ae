// Small keyboard helpers; every page works without this script.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
  // "/" jumps to the search box, as on many search sites
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    var box = document.getElementById("q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  }
  // Ctrl+Enter (or Cmd+Enter) sends the classify form
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target && target.tagName === "TEXTAREA" && target.form) {
    event.preventDefault();
    target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
  }
});

// Empty fields (an unset date) stay out of the URL, so that it is short to share.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form || (form.method || "get").toLowerCase() !== "get") return;
  Array.prototype.forEach.call(form.elements, function (field) {
    if (field.name && field.value === "" && field.tagName === "INPUT") field.disabled = true;
  });
  // re-enable them if the page comes back from the back/forward cache
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
  }, { once: true });
});
