/*
 * Progressive enhancement for the cookie banner and the cookie settings page.
 *
 * Without JavaScript both forms post normally and the server redirects back.
 * With it, the choice is posted with fetch and the page reloads, so the
 * server renders it again with (or without) the scripts the visitor allowed.
 */
(function () {
  "use strict";

  var ACTIONS = ["accept_all", "reject_all", "save"];

  // The buttons are named "action", which shadows form.action: read attributes.
  // An embed's placeholder has a script of its own, which swaps the embed in place.
  function isConsentForm(form) {
    return (
      form instanceof HTMLFormElement &&
      !form.closest(".consentgate-embed") &&
      (form.getAttribute("method") || "").toLowerCase() === "post" &&
      ACTIONS.some(function (action) {
        return form.querySelector('[name="action"][value="' + action + '"]') !== null;
      })
    );
  }

  function postNormally(form, submitter) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = submitter.name;
    field.value = submitter.value;
    form.appendChild(field);
    // The prototype's submit() skips the submit event, so this is not intercepted again.
    HTMLFormElement.prototype.submit.call(form);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    // Old browsers without event.submitter cannot tell which button was used:
    // let them post the form the ordinary way.
    if (!isConsentForm(form) || !submitter || submitter.name !== "action" || !window.fetch) {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    form.setAttribute("aria-busy", "true");
    var body = new URLSearchParams(new FormData(form));
    body.append(submitter.name, submitter.value);
    fetch(new URL(form.getAttribute("action") || "", document.baseURI).href, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("consent not saved: HTTP " + response.status);
        }
        window.location.reload();
      })
      .catch(function () {
        form.removeAttribute("aria-busy");
        postNormally(form, submitter);
      });
  });
})();
