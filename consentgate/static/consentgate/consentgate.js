/*
 * consentgate.js: the visitor's cookie choice for the page's own scripts.
 *
 * window.consentgate.state is what the server knew when it sent the page (read
 * from <script type="application/json" id="consentgate-state">, no request).
 * accept(categories), reject() and save(categories) post a decision to the
 * consent endpoint and resolve with the new state; open() goes to the
 * preferences page. Each decision fires "consentgate:change" on document,
 * then reloads the page so that the server gates it anew, unless
 * consentgate.reload is false (single-page apps re-request what they show).
 * A decision the server refuses (403, 503) or the network loses rejects the
 * promise and changes nothing.
 *
 * The banner's buttons decide through this API when the script runs; without
 * it the banner is a plain form. No dependencies, no build step, no inline
 * handlers, so a strict Content Security Policy only needs to allow this file.
 */
(function () {
  "use strict";

  var STATE_ID = "consentgate-state";
  var BANNER_ID = "consentgate-banner";
  // The banner carries this message in its own language (data-consentgate-error).
  var ERROR = "Your choice could not be saved, so nothing has changed. Please try again.";

  // Options a page set before the script ran: window.consentgate = { reload: false }.
  var preset = window.consentgate;
  if (preset && typeof preset.accept === "function") {
    return; // loaded twice
  }
  var script = document.currentScript;
  // The script is served under the endpoint: /consent/consentgate.<hash>.js.
  var endpoint = script
    ? new URL(".", script.src).href.replace(/\/$/, "")
    : new URL("/consent", location.href).href;
  var prefix = (script && script.getAttribute("data-prefix")) || "";

  function readState() {
    var element = document.getElementById(STATE_ID);
    if (!element) {
      return null;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function fail(status, what) {
    var error = new Error("consentgate: " + what + " (HTTP " + status + ")");
    error.status = status;
    return error;
  }

  function names(categories, what) {
    if (!Array.isArray(categories) || !categories.every(function (c) { return typeof c === "string"; })) {
      throw new TypeError("consentgate." + what + ": categories must be an array of names");
    }
    return categories;
  }

  function announce(type, state) {
    document.dispatchEvent(new CustomEvent(type, { detail: state }));
  }

  function removeBanner() {
    var banner = document.getElementById(BANNER_ID);
    if (banner) {
      banner.remove();
    }
  }

  function decide(action, categories, options) {
    var body = new URLSearchParams();
    body.append("action", action);
    categories.forEach(function (name) {
      body.append("category", name);
    });
    // Where the choice was made (the banner, say), for the record of it.
    if (options && typeof options.entryPoint === "string") {
      body.append("entry_point", options.entryPoint);
    }
    var reload = options && typeof options.reload === "boolean" ? options.reload : api.reload;
    return fetch(endpoint, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw fail(response.status, "the choice was not saved");
        }
        return response.json();
      })
      .then(function (state) {
        api.state = state;
        // Gone before the reload, so it never flashes back.
        removeBanner();
        announce("consentgate:change", state);
        if (reload) {
          location.reload();
        }
        return state;
      });
  }

  // Every method answers with a promise, errors included.
  function promised(run) {
    try {
      return run();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function currentPath() {
    var path = location.pathname;
    if (prefix && path.indexOf(prefix + "/") === 0) {
      path = path.slice(prefix.length);
    }
    return path + location.search;
  }

  var api = {
    /** What the server knows of the visitor's choice; updated by each decision. */
    state: readState(),
    /** Reload the page after a decision (default), so the server gates it anew. */
    reload: !(preset && preset.reload === false),
    /** The consent endpoint these calls post to. */
    endpoint: endpoint,
    /** Every category, or with a list, those on top of what is granted now. */
    accept: function (categories, options) {
      return promised(function () {
        if (categories === undefined || categories === null) {
          return decide("accept_all", [], options);
        }
        var granted = (api.state && api.state.granted) || [];
        return decide("save", granted.concat(names(categories, "accept")), options);
      });
    },
    /** Only the required categories. */
    reject: function (options) {
      return promised(function () {
        return decide("reject_all", [], options);
      });
    },
    /** Exactly these optional categories (required ones are always granted). */
    save: function (categories, options) {
      return promised(function () {
        return decide("save", names(categories, "save"), options);
      });
    },
    /** Go to the preferences page, which leads back here. */
    open: function () {
      location.assign(endpoint + "?next=" + encodeURIComponent(currentPath()));
      return Promise.resolve();
    }
  };

  api.ready = api.state
    ? Promise.resolve(api.state)
    : fetch(endpoint, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw fail(response.status, "the state could not be read");
          }
          return response.json();
        })
        .then(function (state) {
          api.state = state;
          return state;
        });
  window.consentgate = api;

  function showError(form) {
    var note = form.querySelector(".consentgate-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "consentgate-error";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    var banner = form.closest("#" + BANNER_ID);
    note.textContent = (banner && banner.getAttribute("data-consentgate-error")) || ERROR;
  }

  // The banner's buttons decide through the API (the notice's "OK" and opt-out too);
  // other forms post as they are.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var banner = document.getElementById(BANNER_ID);
    var submitter = event.submitter;
    if (!banner || !banner.contains(form) || !submitter || submitter.name !== "action") {
      return;
    }
    var action = submitter.value;
    var fields = new FormData(form);
    var chosen = fields.getAll("category");
    var entry = fields.get("entry_point");
    var options = typeof entry === "string" ? { entryPoint: entry } : undefined;
    var decisions = {
      accept_all: function () { return api.accept(null, options); },
      reject_all: function () { return api.reject(options); },
      save: function () { return api.save(chosen, options); },
      opt_out: function () { return decide("opt_out", chosen, options); },
      acknowledge: function () { return decide("acknowledge", chosen, options); }
    };
    if (!Object.prototype.hasOwnProperty.call(decisions, action)) {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    form.setAttribute("aria-busy", "true");
    decisions[action]().catch(function () {
      form.removeAttribute("aria-busy");
      showError(form);
    });
  });

  api.ready.then(function (state) {
    announce("consentgate:ready", state);
  }, function () { /* no state: the page's own scripts see consentgate.state === null */ });
})();
