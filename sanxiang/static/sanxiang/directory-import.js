// The directory page (检查对象名录库): while a file uploads and imports, say so
// and keep the button from being pressed twice.
(function () {
  var form = document.getElementById("import-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    var busy = document.getElementById("import-busy");
    if (busy) busy.hidden = false;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
  });
})();
