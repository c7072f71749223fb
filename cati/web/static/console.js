// The case screen: digits answer the focused question and move on; answers are saved as they
// are entered; Enter saves the form; the case's lease is renewed while the screen is open.
(function () {
  "use strict";
  var form = document.getElementById("script");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var answers = Array.prototype.slice.call(form.querySelectorAll("input.answer"));
  var status = document.createElement("p");
  status.className = "autosave";
  status.setAttribute("aria-live", "polite");
  form.insertBefore(status, form.firstChild.nextSibling);

  function autosave() {
    var data = new FormData(form);
    data.delete("outcome");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": token}
    }).then(function (response) {
      return response.json().then(function (body) {
        status.textContent = response.ok ? "✓" : (body.error || "!");
        status.className = response.ok ? "autosave ok" : "autosave error";
      });
    }).catch(function () { status.textContent = "!"; });
  }

  answers.forEach(function (input, index) {
    input.addEventListener("input", function () {
      if (!/^[0-9]$/.test(input.value)) { return; }
      autosave();
      var next = answers[index + 1];
      if (next) { next.focus(); next.select(); }
    });
  });

  var box = document.querySelector(".case");
  setInterval(function () {
    fetch(box.dataset.leaseUrl, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": token}});
  }, 5 * 60 * 1000);
})();
