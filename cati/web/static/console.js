// The case screen. Answers are labelled radio buttons, one group per question: a click or a
// digit key answers the question in focus (typing over an answer replaces it) and moves the
// highlight and the focus to the next question the flow asks. A choice that ends the
// interview (consent declined…) greys out the rest and preselects the matching outcome.
// Answers are saved as they are entered; the number is revealed without reloading the page;
// the case's lease is renewed while the screen is open.
(function () {
  "use strict";
  var form = document.getElementById("script");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var questions = Array.prototype.slice.call(form.querySelectorAll("li.question"));
  var outcome = document.getElementById("outcome");
  var status = form.querySelector(".autosave");
  var END_OUTCOME = {refused: "refused", not_eligible: "not_eligible", handover: "appointment",
                     complete: "complete"};
  var autoOutcome = null;  // the outcome this script chose (the interviewer's choice wins)
  // The contact question: shown once the answers raise a follow-up (the keys that raise one,
  // per question, come from the flow; a comment typed raises one when its question says so).
  var contact = document.getElementById("contact-consent");
  var rulesBlock = document.getElementById("follow-up-keys");
  var followUpKeys = rulesBlock ? JSON.parse(rulesBlock.textContent) : {};

  function byId(qid) {
    for (var i = 0; i < questions.length; i++) {
      if (questions[i].dataset.qid === qid) { return i; }
    }
    return -1;
  }

  function checked(li) { return li.querySelector("input[type=radio]:checked"); }

  function answered(li) {
    if (li.dataset.type === "record") { return false; }  // a comment never holds the flow up
    return !!checked(li);
  }

  function setBadge(li, text) {
    var badge = li.querySelector(".badge");
    if (badge) { badge.textContent = text; }
  }

  // Walk the flow as the engine does: answered questions follow their jumps and ends; the
  // first question without an answer is the current one.
  function refresh() {
    var asked = {}, current = null, ended = null, i = 0;
    while (i < questions.length) {
      var li = questions[i];
      asked[i] = true;
      var input = checked(li);
      if (input && input.dataset.end) { ended = input.dataset.end; break; }
      if (input && input.dataset.next) { i = byId(input.dataset.next); continue; }
      if (!answered(li) && current === null) { current = i; }
      i++;
    }
    var lastAnswered = -1;
    questions.forEach(function (li, index) {
      if (asked[index] && answered(li)) { lastAnswered = index; }
    });
    questions.forEach(function (li, index) {
      var notAsked = !asked[index];
      li.classList.toggle("not-asked", notAsked);
      li.classList.toggle("current", index === current && ended === null);
      var skipped = !notAsked && !answered(li) && li.dataset.type !== "record" &&
        index < lastAnswered;
      li.classList.toggle("skipped", skipped);
      setBadge(li, notAsked ? form.dataset.notAskedText : (skipped ? form.dataset.skippedText : ""));
      Array.prototype.forEach.call(li.querySelectorAll("input, textarea"), function (el) {
        el.disabled = notAsked;
      });
    });
    if (contact) {
      var raised = false;
      questions.forEach(function (li, index) {
        var keys = followUpKeys[li.dataset.qid] || [];
        if (!asked[index] || !keys.length) { return; }
        if (li.dataset.type === "record") {
          var text = li.querySelector("textarea");
          raised = raised || (keys.indexOf("1") >= 0 && !!text && text.value.trim() !== "");
        } else {
          var input = checked(li);
          raised = raised || (!!input && keys.indexOf(input.value) >= 0);
        }
      });
      contact.hidden = !raised || ended === "refused" || ended === "not_eligible";
    }
    var wanted = null;
    if (ended) { wanted = END_OUTCOME[ended] || null; }
    else if (current === null || questions[current].dataset.type === "record") {
      wanted = "complete";  // the script reached its end
    }
    if (outcome && (outcome.value === "" || outcome.value === autoOutcome)) {
      outcome.value = wanted || "";
      autoOutcome = wanted;
    }
    return {current: current, ended: ended};
  }

  function focusQuestion(index) {
    var li = questions[index];
    var target = li.querySelector("input[type=radio]:checked") ||
      li.querySelector("input[type=radio], textarea");
    if (target) {
      target.focus();
      if (li.scrollIntoView) { li.scrollIntoView({block: "nearest"}); }
    }
  }

  function advance(from) {
    var state = refresh();
    if (state.ended && outcome) { outcome.focus(); return; }
    if (state.current !== null) { focusQuestion(state.current); return; }
    var inContact = contact && from && contact.contains(from);
    if (contact && !contact.hidden && !inContact &&
        !contact.querySelector("input[type=radio]:checked")) {
      contact.querySelector("input[type=radio]").focus();
      return;
    }
    if (outcome) { outcome.focus(); }
  }

  function showFieldError(field, text) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error.live"), function (p) {
      p.remove();
    });
    if (!field || !text) { return; }
    var li = form.querySelector('li.question[data-qid="' + field + '"]');
    var anchor = li || (document.getElementById(field) || {}).parentNode;
    if (!anchor) { return; }
    var p = document.createElement("p");
    p.className = "field-error live";
    p.setAttribute("role", "alert");
    p.textContent = text;
    anchor.appendChild(p);
  }

  function autosave() {
    var data = new FormData(form);
    data.delete("outcome");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": token}
    }).then(function (response) {
      return response.json().then(function (body) {
        status.textContent = response.ok ? form.dataset.savedText :
          form.dataset.failedText + (body.error ? ": " + body.error : "");
        status.className = response.ok ? "autosave ok" : "autosave error";
        showFieldError(response.ok ? null : body.field, body.error);
      });
    }).catch(function () {
      status.textContent = form.dataset.failedText;
      status.className = "autosave error";
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.type === "radio" || event.target.classList.contains("comment")) {
      refresh();
      autosave();
    }
  });

  // A mouse or touch on a choice moves on; arrow keys inside a group do not.
  form.addEventListener("click", function (event) {
    if (event.target.type === "radio" && event.detail > 0) { advance(event.target); }
  });

  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!/^[0-9]$/.test(event.key) || event.ctrlKey || event.altKey || event.metaKey) { return; }
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
        (target.tagName === "INPUT" && target.type !== "radio")) { return; }
    var li = target.closest ? target.closest("li.question, #contact-consent") : null;
    if (!li) {
      var state = refresh();
      if (state.current === null) { return; }
      li = questions[state.current];
    }
    var input = li.querySelector('input[type=radio][value="' + event.key + '"]:not(:disabled)');
    event.preventDefault();
    if (!input) { return; }
    input.checked = true;
    input.dispatchEvent(new Event("change", {bubbles: true}));
    advance(input);
  });

  // A comment typed raises a follow-up as it is typed: show the contact question at once.
  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("comment")) { refresh(); }
  });

  // Reveal the number in place: the server audits it and answers with the national form.
  var reveal = document.getElementById("reveal");
  if (reveal) {
    reveal.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(reveal.action, {
        method: "POST", body: new FormData(reveal), credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": token}
      }).then(function (response) {
        if (!response.ok) { reveal.submit(); return null; }
        return response.json();
      }).then(function (body) {
        if (!body) { return; }
        var cell = reveal.parentNode;
        var link = document.createElement("a");
        link.className = "phone";
        link.href = "tel:" + body.phone;
        link.dataset.testid = "phone-number";
        link.textContent = body.display;
        cell.textContent = "";
        cell.appendChild(link);
        document.getElementById("phone_revealed").value = "1";
        link.focus();
      }).catch(function () { reveal.submit(); });
    });
  }

  refresh();
  var first = refresh().current;
  if (first !== null && !document.querySelector(".field-error")) {
    focusQuestion(first);
  } else {
    var error = document.querySelector(".field-error");
    if (error) { error.scrollIntoView({block: "center"}); }
  }

  var box = document.querySelector(".case");
  setInterval(function () {
    fetch(box.dataset.leaseUrl, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": token}});
  }, 5 * 60 * 1000);
})();
