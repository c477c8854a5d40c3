/* PulseGate forms: PulseGate.form({...}) builds an accessible lead form; a <form data-pulsegate-project>
 * already on the page is sent to /lead.capture without any configuration. Text is always inserted as
 * text, never as HTML. The server minifies this file when serving it. */
(function (w, d) {
  "use strict";
  var P = (w.PulseGate = w.PulseGate || {});
  if (P.form && P.form.live) return; // loaded twice (a snippet's stub is replaced)
  var script = d.currentScript;
  var scriptOrigin = location.origin;
  try {
    if (script && script.src) scriptOrigin = new URL(script.src, location.href).origin;
  } catch (e) {
    /* an odd src: the page's own origin */
  }
  var TRAP = "data-pulsegate-trap"; // marks the honeypot form.js adds (a site's own "website" field is data)
  // The server's rules (pulsegate/domain/leads.py), so a visitor learns of a mistake at once.
  var EMAIL = /^[^@\s<>()[\],;:"]+@[^@\s<>()[\],;:"]+\.[^@\s<>()[\],;:"]{2,}$/;
  var PHONE = /^\+?[0-9 ().\-/]{5,40}$/;
  var TOP_LEVEL = { name: 200, email: 254, phone: 40, company: 200, message: 5000 };
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var counter = 0;

  function el(tag, attrs, textContent) {
    var node = d.createElement(tag);
    for (var key in attrs) if (attrs[key] != null && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    if (textContent != null) node.textContent = textContent;
    return node;
  }

  // Cut to `max` characters without splitting an emoji (half a pair is invalid JSON for the server).
  function cut(value, max) {
    if (value.length <= max) return value;
    var code = value.charCodeAt(max - 1);
    return value.slice(0, code >= 0xd800 && code < 0xdc00 ? max - 1 : max);
  }

  function submissionId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function stored(kind, key) {
    try {
      return w[kind].getItem(key) || undefined;
    } catch (e) {
      return undefined;
    }
  }

  // What is wrong with one value, or "" (required, length, email and phone formats).
  function problem(name, type, value, required) {
    if (!value) return required ? "This field is required." : "";
    if (value.length > (TOP_LEVEL[name] || 2000)) return "This is too long.";
    if ((type == "email" || name == "email") && !EMAIL.test(value)) return "Enter a valid email address.";
    var digits = value.replace(/\D/g, "").length;
    if ((type == "tel" || name == "phone") && (!PHONE.test(value) || digits < 5)) return "Enter a valid phone number.";
    return "";
  }

  // The element that shows a control's error, made on first use and tied to it with aria-describedby.
  function errorFor(control) {
    var id = control.getAttribute("data-pulsegate-error");
    if (id) return d.getElementById(id);
    id = "pulsegate-error-" + ++counter;
    var node = el("p", { id: id, class: "pulsegate-error", hidden: "" });
    control.setAttribute("data-pulsegate-error", id);
    var described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? described + " " + id : id);
    (control.closest("label") || control).insertAdjacentElement("afterend", node);
    return node;
  }

  function showProblem(control, message) {
    var node = errorFor(control);
    node.textContent = message;
    node.hidden = !message;
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }

  // Checks every named control of the form, marks the wrong ones, and returns the lead's fields.
  function collect(form) {
    var lead = { fields: {} }, firstWrong = null, fieldCount = 0;
    Array.prototype.forEach.call(form.elements, function (control) {
      var name = control.name;
      if (!name || control.hasAttribute(TRAP) || control.disabled || control.tagName == "OBJECT") return;
      if (/^(submit|button|reset|file|image|fieldset|output)$/.test(control.type)) return;
      if ((control.type == "checkbox" || control.type == "radio") && !control.checked) return;
      var value = control.type == "checkbox" && control.value == "on" ? true : String(control.value).trim();
      var message = value === true ? "" : problem(name, control.type, value, control.required);
      showProblem(control, message);
      if (message && !firstWrong) firstWrong = control;
      if (value === "") return;
      if (TOP_LEVEL[name]) lead[name] = value;
      else if (UTM.indexOf(name) < 0) {
        var key = cut(name, 64), before = lead.fields[key];
        // Checkboxes sharing a name: all the ticked values, not only the last.
        if (before != null && control.type == "checkbox") lead.fields[key] = cut(before + ", " + value, 2000);
        else if (before == null && fieldCount++ >= 50) return; // the server takes 50 fields
        else lead.fields[key] = value;
      }
    });
    if (!firstWrong && !lead.email && !lead.phone) {
      firstWrong = form.elements.email || form.elements.phone;
      if (firstWrong) showProblem(firstWrong, "Enter an email address or a phone number.");
    }
    if (firstWrong) {
      firstWrong.focus();
      return null;
    }
    return lead;
  }

  function post(endpoint, body, retried, done) {
    fetch(endpoint + "/lead.capture", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(
      function (response) {
        // Once more with the same submission_id: the server keeps one lead per id.
        if (response.status >= 500 && !retried) return post(endpoint, body, true, done);
        response.json().then(
          function (answer) { done(response.ok ? null : answer.error || "The form could not be sent.", answer); },
          function () { done("The form could not be sent (" + response.status + ")."); }
        );
      },
      function () {
        if (!retried) return post(endpoint, body, true, done);
        done("The form could not be sent: check your connection and try again.");
      }
    );
  }

  // Sends `form` as a lead when it is submitted; options: project, source, endpoint, callbacks.
  function attach(form, options) {
    var shownAt = Date.now();
    var status = form.querySelector("[data-pulsegate-status]") || form.appendChild(el("p", { "data-pulsegate-status": "", role: "status", "aria-live": "polite" }));
    var honeypot = form.querySelector("[" + TRAP + "]");
    if (!honeypot) {
      // The honeypot: out of sight and out of the tab order; people leave it empty, bots fill it in.
      // Styled through the CSSOM, which a page's Content-Security-Policy allows (a style attribute not).
      var trap = el("div", { "aria-hidden": "true" });
      trap.style.cssText = "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden";
      var label = el("label", {}, "Website");
      honeypot = el("input", { type: "text", name: "pulsegate_website", tabindex: "-1", autocomplete: "off" });
      honeypot.setAttribute(TRAP, "");
      label.appendChild(honeypot);
      trap.appendChild(label);
      form.appendChild(trap);
    }
    form.setAttribute("novalidate", "");
    var sending = 0;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      try {
        send(event);
      } catch (e) {
        sending = 0;
        if (w.console) console.error(e); // a bug here must not break the page
      }
    });

    function send() {
      if (sending) return;
      var lead = collect(form);
      if (!lead) return;
      var config = P.config || {};
      // With the tracker on the page, only its ids (none when it honours Do Not Track); alone,
      // the ids a tracker left in this tab.
      var ids = P.ids
        ? P.ids()
        : { session_id: stored("sessionStorage", "pulsegate_session"), visitor_id: stored("localStorage", "pulsegate_visitor") };
      var params = new URLSearchParams(location.search);
      lead.submission_id = form.pulsegateSubmission = form.pulsegateSubmission || submissionId();
      lead.project = options.project || config.project;
      lead.source = options.source ? cut(String(options.source), 100) : undefined;
      lead.session_id = ids.session_id;
      lead.visitor_id = ids.visitor_id;
      lead.page_url = cut(location.href, 2048);
      lead.website = honeypot.value;
      lead.elapsed_ms = Date.now() - shownAt;
      UTM.forEach(function (key) {
        var value = (form.elements[key] && form.elements[key].value) || params.get(key);
        if (value) lead[key] = cut(value, 256);
      });
      if (!Object.keys(lead.fields).length) delete lead.fields;
      var button = form.querySelector("[type=submit]");
      sending = 1;
      if (button) button.disabled = true;
      status.className = "pulsegate-sending";
      status.textContent = options.sendingText || "Sending…";
      var endpoint = String(options.endpoint || config.endpoint || scriptOrigin).replace(/\/+$/, "");
      post(endpoint, lead, false, function (error, answer) {
        sending = 0;
        if (button) button.disabled = false;
        status.className = error ? "pulsegate-failed" : "pulsegate-sent";
        status.textContent = error || options.successText || "Thank you! We will be in touch.";
        if (error) {
          if (options.onError) options.onError(error, answer);
          return;
        }
        form.pulsegateSubmission = null; // the next submission is a new lead
        form.reset();
        if (options.onSuccess) options.onSuccess(answer);
      });
    }
  }

  /** Build a lead form into `target`: {target, project, source, fields: [{name, label, type,
   * required, placeholder, options}], submitLabel, successText, endpoint, onSuccess, onError}. */
  P.form = function (options) {
    try {
      var target = typeof options.target == "string" ? d.querySelector(options.target) : options.target;
      if (!target) throw new Error("PulseGate.form: no element matches " + options.target);
      var form = el("form", { class: "pulsegate-form", "data-pulsegate-source": options.source });
      (options.fields || [{ name: "email", label: "Email", type: "email", required: true }]).forEach(function (field) {
        var id = "pulsegate-field-" + ++counter;
        var wrap = el("div", { class: "pulsegate-field" });
        wrap.appendChild(el("label", { for: id }, field.label || field.name));
        var type = field.type || (field.name == "email" ? "email" : field.name == "phone" ? "tel" : "text");
        var control = el(type == "textarea" || type == "select" ? type : "input", {
          id: id,
          name: field.name,
          type: type == "textarea" || type == "select" ? null : type,
          required: field.required ? "" : null,
          placeholder: field.placeholder,
          autocomplete: { name: "name", email: "email", phone: "tel", company: "organization" }[field.name],
        });
        (field.options || []).forEach(function (option) {
          control.appendChild(el("option", { value: option }, option));
        });
        wrap.appendChild(control);
        form.appendChild(wrap);
      });
      form.appendChild(el("button", { type: "submit" }, options.submitLabel || "Send"));
      target.textContent = "";
      target.appendChild(form);
      watch(form);
      attach(form, options);
      return form;
    } catch (e) {
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
    Array.prototype.forEach.call(d.forms, watch);
    Array.prototype.forEach.call(d.querySelectorAll("form[data-pulsegate-project]"), function (form) {
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
