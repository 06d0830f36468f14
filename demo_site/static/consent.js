/*
 * The site's use of the consentgate JavaScript API (window.consentgate).
 *
 * The "Cookie settings" link opens the preferences through the API, which
 * tells the settings page where to lead back to. Without JavaScript, or if
 * the API did not load, the link is an ordinary link to the same page.
 */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest("a[data-consentgate-open]");
    var modified = event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
    // A new tab or window is the browser's to open.
    if (!link || modified || event.defaultPrevented || !window.consentgate) {
      return;
    }
    event.preventDefault();
    window.consentgate.open();
  });
})();
