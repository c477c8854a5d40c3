/* PulseGate forms: PulseGate.form({...}) builds an accessible lead form; a <form data-pulsegate-project>
 * already on the page is sent to /lead.capture without any configuration. Text is always inserted as
 * text, never as HTML. The server minifies this file when serving it.
 *
 * Written for its size over the wire, as tracker.js is (see there): limits where they are used,
 * `undefined` as a local, no helper around a single short call. */
(function (w, d, undefined) {
  var P = (w.PulseGate = w.PulseGate || {});
  if (P.form && P.form.live) return; // loaded twice (a snippet's stub is replaced)
  var loc = location,
    scriptOrigin = loc.origin,
    TRAP = "data-pulsegate-trap", // marks the honeypot form.js adds (a site's own "website" field is data)
    // The server's rules (pulsegate/domain/leads.py), so a visitor learns of a mistake at once:
    // the lead's own columns and their lengths (any other field takes 2,000 characters).
    TOP_LEVEL = { name: 200, email: 254, phone: 40, company: 200, message: 5e3 },
    UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"],
    counter = 0;
  try {
    scriptOrigin = new URL(d.currentScript.src).origin;
  } catch (e) {
    /* no src (or an odd one): the page's own origin */
  }

  // An element; attributes set to null or undefined are left out.
  function el(tag, attrs, textContent) {
    var node = d.createElement(tag);
    for (var key in attrs) if (attrs[key] != null) node.setAttribute(key, attrs[key]);
    if (textContent != null) node.textContent = textContent;
    return node;
  }

  // Cut to `max` characters without splitting an emoji (half a pair is invalid JSON for the server):
  // when the last kept character is a high surrogate (0xD800-0xDBFF: >> 10 gives 54), it goes too.
  function cut(value, max) {
    return value.slice(0, max - (value.charCodeAt(max - 1) >> 10 == 54));
  }

  // <standalone>: pulse.js leaves out the lines from here to the closing marker (see
  // pulsegate/web/scripts.py): its tracker always defines PulseGate.ids, so they are never used there.
  // Without the tracker on the page, the ids a tracker left in this tab.
  function stored(area, key) {
    try {
      return w[area].getItem(key) || undefined;
    } catch (e) {
      /* storage refused */
    }
  }
  // </standalone>

  // What is wrong with one value, or "" (required, length, email and phone formats).
  function problem(name, type, value, required) {
    if (!value) return required ? "This field is required." : "";
    if (value.length > (TOP_LEVEL[name] || 2e3)) return "This is too long.";
    if ((type == "email" || name == "email") && !/^[^@\s<>()[\],;:"]+@[^@\s<>()[\],;:"]+\.[^@\s<>()[\],;:"]{2,}$/.test(value))
      return "Enter a valid email address.";
    if ((type == "tel" || name == "phone") && (!/^\+?[0-9 ().\-/]{5,40}$/.test(value) || value.replace(/\D/g, "").length < 5))
      return "Enter a valid phone number.";
    return "";
  }

  // Shows `message` (or no error) for a control: its error element is made on first use, after
  // the control's label, and tied to it with aria-describedby.
  function showProblem(control, message) {
    var id = control.getAttribute("data-pulsegate-error"),
      node = id && d.getElementById(id),
      described = control.getAttribute("aria-describedby");
    if (!node) {
      id = "pulsegate-error-" + ++counter;
      node = el("p", { id: id, class: "pulsegate-error" });
      control.setAttribute("data-pulsegate-error", id);
      control.setAttribute("aria-describedby", described ? described + " " + id : id);
      (control.closest("label") || control).insertAdjacentElement("afterend", node);
    }
    node.textContent = message;
    node.hidden = !message;
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }

  // Checks every named control of the form, marks the wrong ones, and returns the lead's fields
  // (null when something is wrong: the first wrong control has the focus).
  function collect(form) {
    var elements = form.elements,
      fields = {},
      lead = { fields: fields },
      firstWrong,
      fieldCount = 0;
    [].forEach.call(elements, function (control) {
      var name = control.name,
        type = control.type,
        checkbox = type == "checkbox";
      if (!name || control.hasAttribute(TRAP) || control.disabled || control.tagName == "OBJECT") return;
      if (/^(submit|button|reset|file|image|fieldset|output)$/.test(type)) return;
      if ((checkbox || type == "radio") && !control.checked) return;
      var value = checkbox && control.value == "on" ? true : String(control.value).trim(),
        message = value === true ? "" : problem(name, type, value, control.required),
        key = cut(name, 64),
        before = fields[key];
      showProblem(control, message);
      firstWrong = firstWrong || (message && control);
      if (value === "") return;
      if (TOP_LEVEL[name]) lead[name] = value;
      else if (UTM.indexOf(name) < 0) {
        // Checkboxes sharing a name: all the ticked values, not only the last.
        if (before != null && checkbox) fields[key] = cut(before + ", " + value, 2e3);
        else if (before != null || fieldCount++ < 50) fields[key] = value; // the server takes 50 fields
      }
    });
    if (!firstWrong && !lead.email && !lead.phone) {
      firstWrong = elements.email || elements.phone;
      if (firstWrong) showProblem(firstWrong, "Enter an email address or a phone number.");
    }
    if (!firstWrong) return lead;
    firstWrong.focus();
  }

  // POST the lead; a network failure or a 5xx is tried once more with the same submission_id
  // (the server keeps one lead per id). Then done(error or null, the server's answer).
  function post(endpoint, body, retried, done) {
    var retry =
      !retried &&
      function () {
        post(endpoint, body, 1, done);
      };
    fetch(endpoint + "/lead.capture", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(
      function (response) {
        if (response.status >= 500 && retry) return retry();
        response.json().then(
          function (answer) {
            done(response.ok ? null : answer.error || "The form could not be sent.", answer);
          },
          function () {
            done("The form could not be sent (" + response.status + ").");
          }
        );
      },
      function () {
        retry ? retry() : done("The form could not be sent: check your connection and try again.");
      }
    );
  }

  // Sends `form` as a lead when it is submitted; options: project, source, endpoint, texts, callbacks.
  function attach(form, options) {
    var shownAt = Date.now(),
      sending,
      submission, // this form's submission_id until the lead is sent
      status =
        form.querySelector("[data-pulsegate-status]") ||
        form.appendChild(el("p", { "data-pulsegate-status": "", role: "status", "aria-live": "polite" })),
      honeypot = form.querySelector("[" + TRAP + "]");
    if (!honeypot) {
      // The honeypot: out of sight and out of the tab order; people leave it empty, bots fill it in.
      // Styled through the CSSOM, which a page's Content-Security-Policy allows (a style attribute not).
      var trap = form.appendChild(el("div", { "aria-hidden": "true" })),
        label = trap.appendChild(el("label", {}, "Website"));
      trap.style.cssText = "position:absolute;left:-9999px";
      honeypot = label.appendChild(el("input", { type: "text", name: "pulsegate_website", tabindex: "-1", autocomplete: "off" }));
      honeypot.setAttribute(TRAP, "");
    }
    form.setAttribute("novalidate", "");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      try {
        send();
      } catch (e) {
        sending = 0;
        if (w.console) console.error(e); // a bug here must not break the page
      }
    });

    function send() {
      var lead = !sending && collect(form);
      if (!lead) return;
      var config = P.config || {},
        // With the tracker on the page, only its ids (none when it honours Do Not Track).
        ids = P.ids && P.ids(),
        params = new URLSearchParams(loc.search),
        button = form.querySelector("[type=submit]");
      // <standalone> (left out of pulse.js, which always has the tracker)
      // Alone, the ids a tracker left in this tab.
      ids = ids || { session_id: stored("sessionStorage", "pulsegate_session"), visitor_id: stored("localStorage", "pulsegate_visitor") };
      // </standalone>
      // 32 random hex digits, kept until the lead is sent, so a retry is the same submission.
      if (!submission) {
        submission = "";
        crypto.getRandomValues(new Uint8Array(16)).forEach(function (byte) {
          submission += (byte + 256).toString(16).slice(1);
        });
      }
      Object.assign(lead, ids); // session_id and visitor_id, when there are any
      lead.submission_id = submission;
      lead.project = options.project || config.project;
      lead.source = options.source ? cut(String(options.source), 100) : undefined;
      lead.page_url = cut(loc.href, 2048);
      lead.website = honeypot.value;
      lead.elapsed_ms = Date.now() - shownAt;
      UTM.forEach(function (key) {
        var value = (form.elements[key] && form.elements[key].value) || params.get(key);
        if (value) lead[key] = cut(value, 256);
      });
      if (!Object.keys(lead.fields)[0]) lead.fields = undefined;
      sending = 1;
      if (button) button.disabled = true;
      status.className = "pulsegate-sending";
      status.textContent = options.sendingText || "Sending…";
      post(String(options.endpoint || config.endpoint || scriptOrigin).replace(/\/+$/, ""), lead, 0, function (error, answer) {
        sending = 0;
        if (button) button.disabled = false;
        status.className = error ? "pulsegate-failed" : "pulsegate-sent";
        status.textContent = error || options.successText || "Thank you! We will be in touch.";
        if (error) return options.onError && options.onError(error, answer);
        submission = 0; // the next submission is a new lead
        form.reset();
        if (options.onSuccess) options.onSuccess(answer);
      });
    }
  }

  /** Build a lead form into `target`: {target, project, source, fields: [{name, label, type,
   * required, placeholder, options}], submitLabel, successText, endpoint, onSuccess, onError}. */
  P.form = function (options) {
    try {
      var target = typeof options.target == "string" ? d.querySelector(options.target) : options.target,
        form = el("form", { class: "pulsegate-form", "data-pulsegate-source": options.source });
      if (!target) throw "PulseGate.form: no element matches " + options.target;
      (options.fields || [{ name: "email", label: "Email", type: "email", required: true }]).forEach(function (field) {
        var id = "pulsegate-field-" + ++counter,
          name = field.name,
          wrap = form.appendChild(el("div", { class: "pulsegate-field" })),
          type = field.type || (name == "email" ? "email" : name == "phone" ? "tel" : "text"),
          own = type == "textarea" || type == "select", // an element of its own, not an <input type>
          control;
        wrap.appendChild(el("label", { for: id }, field.label || name));
        control = wrap.appendChild(
          el(own ? type : "input", {
            id: id,
            name: name,
            type: own ? null : type,
            required: field.required ? "" : null,
            placeholder: field.placeholder,
            autocomplete: { name: "name", email: "email", phone: "tel", company: "organization" }[name],
          })
        );
        (field.options || []).forEach(function (option) {
          control.appendChild(el("option", { value: option }, option));
        });
      });
      form.appendChild(el("button", { type: "submit" }, options.submitLabel || "Send"));
      target.textContent = "";
      target.appendChild(form);
      watch(form);
      attach(form, options);
      return form;
    } catch (e) {
      // No such target (or another mistake in the options): told to onError, or the console.
      if (options && options.onError) options.onError(String(e.message || e));
      else if (w.console) console.error(e);
    }
  };

  P.form.live = 1;

  // Every form of the page is reported to the tracker once half of it has been on screen (its
  // views in GET /analytics/forms); without the tracker on the page nothing is sent.
  var watcher =
    w.IntersectionObserver &&
    new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting && P.formSeen) {
            watcher.unobserve(entry.target);
            P.formSeen(entry.target);
          }
        });
      },
      { threshold: 0.5 }
    );

  function watch(form) {
    if (watcher) watcher.observe(form);
  }

  function enhance() {
    [].forEach.call(d.forms, watch);
    [].forEach.call(d.querySelectorAll("form[data-pulsegate-project]"), function (form) {
      if (form.pulsegateAttached) return;
      form.pulsegateAttached = 1;
      attach(form, {
        project: form.getAttribute("data-pulsegate-project"),
        source: form.getAttribute("data-pulsegate-source") || form.getAttribute("name") || form.id || undefined,
        successText: form.getAttribute("data-pulsegate-success") || undefined,
      });
    });
  }
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", enhance);
  else enhance();
})(window, document);
