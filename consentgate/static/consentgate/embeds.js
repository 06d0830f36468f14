/* consentgate: swap a click-to-load placeholder for its embed, without a reload.
   The placeholder's buttons are plain form posts; this script posts them with fetch
   instead, then fetches the page again and takes the embed from it by its id. Until the
   click, nothing of the embed is in the page. Any failure falls back to the plain post. */
(function () {
  "use strict";
  if (window.consentgateEmbeds || !window.fetch || !window.DOMParser) {
    return;
  }
  window.consentgateEmbeds = true;

  function page(url) {
    var options = {
      cache: "no-store",
      credentials: "same-origin",
      headers: {"Consentgate-Embed-Ids": "1"}
    };
    return fetch(url, options).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.text();
    }).then(function (text) {
      return new DOMParser().parseFromString(text, "text/html");
    });
  }

  function swap(doc, holder) {
    var fresh = doc.getElementById(holder.id);
    if (!fresh || fresh.classList.contains("consentgate-embed")) {
      return null;
    }
    fresh = document.importNode(fresh, true);
    holder.replaceWith(fresh);
    return fresh;
  }

  function post(form, button) {
    var data = new URLSearchParams(new FormData(form));
    data.append(button.name, button.value);
    return fetch(button.formAction || form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {Accept: "application/json"}
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function holdersOf(category) {
    var all = document.querySelectorAll(".consentgate-embed");
    return Array.prototype.filter.call(all, function (other) {
      return other.getAttribute("data-consentgate-category") === category;
    });
  }

  function allowAll(doc, holder) {
    var mine = swap(doc, holder);
    holdersOf(holder.getAttribute("data-consentgate-category")).forEach(function (other) {
      swap(doc, other);
    });
    var banner = document.getElementById("consentgate-banner");
    if (banner && !doc.getElementById("consentgate-banner")) {
      banner.remove();
    }
    return mine;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var holder = form.closest && form.closest(".consentgate-embed");
    // A widget needs its provider's script run, which a swapped-in page does not do.
    if (!holder || !button || form.getAttribute("data-consentgate-plain") ||
        holder.hasAttribute("data-consentgate-widget")) {
      return;
    }
    // Caught on the way down and stopped: a site's own handler of consent forms must not
    // post it a second time.
    event.preventDefault();
    event.stopPropagation();
    holder.setAttribute("aria-busy", "true");
    post(form, button).then(function (answer) {
      if (button.value === "load_once") {
        return page(answer.url).then(function (doc) {
          return swap(doc, holder);
        });
      }
      var category = holder.getAttribute("data-consentgate-category");
      var widgets = holdersOf(category).some(function (other) {
        return other.hasAttribute("data-consentgate-widget");
      });
      if (widgets) {
        // A widget needs its provider's script run: only a new page does that.
        location.reload();
        return holder;
      }
      return page(location.href.split("#")[0]).then(function (doc) {
        return allowAll(doc, holder);
      });
    }).then(function (fresh) {
      if (!fresh) {
        throw new Error("embed not found");
      }
      fresh.focus();
    }).catch(function () {
      form.setAttribute("data-consentgate-plain", "1");
      form.requestSubmit(button);
    });
  }, true);
}());
