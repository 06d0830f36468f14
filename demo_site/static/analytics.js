/*
 * The site's own page counter. It runs only once the visitor has chosen to
 * allow analytics: the consent gate removes this script tag
 * (data-consent="analytics") from every page until then, and the script itself
 * waits for the consentgate API's state (or its "consentgate:change" event) to
 * grant analytics before it sets a cookie or sends anything.
 *
 * It keeps a random visitor number in a first-party cookie and sends one
 * page view per page to the server, which lists them on /analytics.
 */
(function () {
  "use strict";

  var COOKIE = "ka2_visitor";
  var ONE_YEAR = 365 * 24 * 60 * 60;
  var script = document.currentScript;
  var endpoint = (script && script.getAttribute("data-beacon")) || "/analytics/beacon";

  function readVisitor() {
    var match = document.cookie.match(/(?:^|;\s*)ka2_visitor=([A-Za-z0-9_-]{8,64})(?:;|$)/);
    return match ? match[1] : null;
  }

  function newVisitor() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); })
      .join("");
  }

  function grants(state) {
    return Boolean(state && state.granted.indexOf("analytics") !== -1);
  }

  function start() {
    var visitor = readVisitor();
    if (!visitor) {
      visitor = newVisitor();
      document.cookie =
        COOKIE + "=" + visitor + "; Max-Age=" + ONE_YEAR + "; Path=/; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    }

    // A string body goes out as text/plain, which needs no CORS preflight.
    var body = JSON.stringify({ path: location.pathname, title: document.title, visitor: visitor });
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) {
      return;
    }
    if (window.fetch) {
      fetch(endpoint, { method: "POST", body: body, keepalive: true, credentials: "same-origin" })
        .catch(function () { /* a lost page view is not worth an error */ });
    }
  }

  // Without the API there is no choice to read: nothing runs.
  var api = window.consentgate;
  if (api && grants(api.state)) {
    start();
  } else if (api) {
    document.addEventListener("consentgate:change", function once(event) {
      if (grants(event.detail)) {
        document.removeEventListener("consentgate:change", once);
        start();
      }
    });
  }
})();
