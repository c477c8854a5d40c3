/* PulseGate tracker: sessions, page views, clicks, scroll depth, engaged time and custom events.
 * Load it with <script src="https://YOUR-PULSEGATE/tracker.js" data-project="acme" defer></script>;
 * PulseGate.track(name, props) records a custom event; so does a click on an element tagged
 * data-pulse-event="Name", with data-pulse-prop-KEY="value" as its properties. The server minifies this
 * file when serving it. */
(function (w, d) {
  "use strict";
  var P = (w.PulseGate = w.PulseGate || {});
  if (P.track && P.track.live) return; // loaded twice: the first copy keeps tracking

  var TRACK_PATH = "/track"; // the server rewrites this when web.tracking_prefix is set
  var FLUSH_MS = 5000; // how long an event may wait in the queue
  var BATCH_MAX = 100; // the server's limit per batch
  var END_MAX = 20; // events carried by a session end; more go in a batch beside it
  var KEEPALIVE_BYTES = 60000; // browsers refuse keepalive bodies past 64 KB in flight
  var IDLE_MS = 30000; // a gap between two inputs longer than this is not engaged time
  var MAX_FAILURES = 3; // a batch that failed this many times in a row is dropped
  var DOWNLOADS = /\.(pdf|zip|gz|rar|7z|dmg|exe|msi|pkg|deb|apk|iso|csv|xlsx?|docx?|pptx?|mp3|mp4|mov)$/i;
  var SESSION_KEY = "pulsegate_session"; // sessionStorage: one session per tab
  var VISITOR_KEY = "pulsegate_visitor"; // localStorage: the same visitor across visits
  var script = d.currentScript;
  var loc = w.location;

  var cfg; // options once started
  var sessionId, visitorId, starting, sending, stopped;
  var queue = [];
  var timer = 0;
  var blockedUntil = {}; // by route: after a 429, nothing goes there before this time
  var failures = 0;
  var lastUrl, leftPage;
  var engagedMs = 0, reportedEngagedMs = 0, lastInput = 0;
  var maxScroll = 0, reportedScroll = 0;

  // Every entry point runs through this: a tracker must never break the page it measures.
  function safe(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {
        /* swallowed on purpose */
      }
    };
  }

  function storage(kind, key, value) {
    try {
      var area = w[kind];
      if (value === undefined) return area.getItem(key);
      if (value === null) area.removeItem(key);
      else area.setItem(key, value);
    } catch (e) {
      /* storage refused (private mode, sandboxed frame): this page still counts */
    }
  }

  // Cut to `max` characters without splitting an emoji (half a pair is invalid JSON for the server).
  function text(value, max) {
    if (value == null) return undefined;
    value = String(value);
    if (value.length <= max) return value;
    var code = value.charCodeAt(max - 1);
    return value.slice(0, code >= 0xd800 && code < 0xdc00 ? max - 1 : max);
  }

  function here() {
    return text(loc.href, 2048);
  }

  function randomId() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // The server refuses a whole batch for one bad field, so props are cut to what it accepts.
  function cleanProps(props) {
    if (!props || typeof props != "object") return undefined;
    var clean, count = 0;
    Object.keys(props).forEach(function (key) {
      var value = props[key], kind = typeof value;
      if (count >= 30 || !key || (kind != "string" && kind != "number" && kind != "boolean")) return;
      clean = clean || {};
      clean[text(key, 64)] = kind == "string" ? text(value, 512) : kind == "number" && !isFinite(value) ? null : value;
      count++;
    });
    return clean;
  }

  function blocked(path) {
    return Date.now() < (blockedUntil[path] || 0);
  }

  // POST `body`; keepalive (the request outlives the page) whenever the body is small enough.
  function send(path, body, done) {
    if (blocked(path)) return done && done(429);
    var headers = { "Content-Type": "application/json" };
    if (visitorId) headers["X-Visitor-ID"] = visitorId;
    var json = JSON.stringify(body);
    fetch(cfg.endpoint + TRACK_PATH + path, {
      method: "POST",
      headers: headers,
      body: json,
      keepalive: json.length < KEEPALIVE_BYTES,
      credentials: "omit",
    }).then(
      safe(function (response) {
        if (response.status == 429) {
          var wait = parseInt(response.headers.get("Retry-After"), 10);
          blockedUntil[path] = Date.now() + 1000 * (wait >= 0 ? wait : 60);
        }
        if (done) done(response.status, response);
      }),
      safe(function () {
        if (done) done(0);
      })
    );
  }

  function startSession() {
    if (starting || stopped) return;
    starting = 1;
    var screen = w.screen || {};
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      /* no Intl */
    }
    lastUrl = loc.href;
    send(
      "/session/start",
      {
        url: here(),
        referrer: text(d.referrer, 2048) || undefined,
        title: text(d.title, 512),
        project: cfg.project,
        screen_width: screen.width,
        screen_height: screen.height,
        language: text(navigator.language, 35),
        timezone: text(zone, 64),
        timestamp: Date.now(),
      },
      function (status, response) {
        if (status != 200) {
          starting = 0;
          return;
        }
        response.json().then(
          safe(function (receipt) {
            sessionId = receipt.session_id;
            storage("sessionStorage", SESSION_KEY, sessionId);
            starting = 0;
            schedule();
          }),
          safe(function () {
            starting = 0;
          })
        );
      }
    );
  }

  function enqueue(event) {
    if (stopped) return;
    event.timestamp = Date.now();
    queue.push(event);
    if (queue.length > 5 * BATCH_MAX) queue.shift(); // the server is unreachable: keep the newest
    leftPage = 0;
    if (queue.length >= BATCH_MAX) flush();
    else schedule();
  }

  function schedule() {
    if (!timer) timer = setTimeout(safe(flush), FLUSH_MS);
  }

  // Engaged time and scroll depth not yet reported, as events at the end of the queue.
  function measurements() {
    noteInput(true);
    if (engagedMs - reportedEngagedMs >= 1000) {
      queue.push({ type: "engagement", props: { engaged_ms: engagedMs - reportedEngagedMs }, timestamp: Date.now() });
      reportedEngagedMs = engagedMs;
    }
    if (maxScroll > reportedScroll) {
      queue.push({ type: "scroll", props: { depth: maxScroll }, timestamp: Date.now() });
      reportedScroll = maxScroll;
    }
  }

  // One batch in flight at a time: events arrive in order, and a failure is counted once.
  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (!sessionId) return startSession();
    if (sending) return;
    if (!queue.length || blocked("/events/batch")) return queue.length && schedule();
    measurements();
    var batch = queue.splice(0, BATCH_MAX);
    sending = 1;
    send("/events/batch", { session_id: sessionId, events: batch }, function (status) {
      sending = 0;
      if (status == 200) {
        failures = 0;
        if (queue.length >= BATCH_MAX) flush();
        else if (queue.length) schedule();
      } else if (status == 404) {
        restart(batch);
      } else if (status == 429 || status == 0 || status >= 500) {
        // Not stored: put the batch back for a later try, a few times at most.
        if (++failures <= MAX_FAILURES) queue = batch.concat(queue);
        else failures = 0;
        schedule();
      }
      // Any other answer (400, 413) means the batch itself is wrong: sending it again cannot help.
    });
  }

  // The server no longer knows the session (it idled out): begin a new one on this page, which
  // records this page's view itself, and send the other events into it.
  function restart(events) {
    sessionId = null;
    storage("sessionStorage", SESSION_KEY, null);
    var here = loc.href;
    queue = events.concat(queue).filter(function (event) {
      return !(event.type == "pageview" && event.url == here);
    });
    startSession();
  }

  // Leaving (tab hidden, page closed, next page): send what is queued with the session end, so
  // one request carries it all and survives the page going away. If the page is still there
  // when the end fails (a hidden tab), its events go back in the queue.
  function leave() {
    if (!sessionId || leftPage || stopped) return;
    leftPage = 1;
    clearTimeout(timer);
    timer = 0;
    noteInput(true);
    if (blocked("/session/end")) {
      // Over the end's budget: the events still go, by the batch route; the idle sweep ends it.
      measurements();
      return flush();
    }
    if (queue.length > END_MAX && !sending && !blocked("/events/batch")) {
      var extra = queue.splice(0, Math.min(queue.length - END_MAX, BATCH_MAX));
      send("/events/batch", { session_id: sessionId, events: extra }, requeueUnless400(extra));
    }
    var end = {
      session_id: sessionId,
      timestamp: Date.now(),
      engaged_ms: engagedMs - reportedEngagedMs,
      max_scroll: maxScroll,
    };
    var carried = queue.splice(0, END_MAX);
    if (carried.length) end.events = carried;
    var engagedBefore = reportedEngagedMs;
    reportedEngagedMs = engagedMs;
    reportedScroll = maxScroll;
    send("/session/end", end, function (status) {
      if (status == 200 || status == 400 || status == 404) return;
      requeueUnless400(carried)(status);
      reportedEngagedMs = engagedBefore;
      leftPage = 0;
    });
  }

  function requeueUnless400(events) {
    return function (status) {
      if (status != 200 && status != 400 && status != 413) queue = events.concat(queue);
    };
  }

  // Engaged time: the gaps between inputs while the page is visible, when shorter than IDLE_MS.
  // Measuring (at a flush or on leaving) counts up to now without being an input itself.
  function noteInput(measureOnly) {
    var now = Date.now();
    var recent = lastInput && now - lastInput < IDLE_MS;
    if (recent) engagedMs += now - lastInput;
    if (recent || !measureOnly) lastInput = d.visibilityState == "hidden" ? 0 : now;
  }

  function noteScroll() {
    var root = d.documentElement, body = d.body || {};
    var height = Math.max(root.scrollHeight, body.scrollHeight || 0);
    var seen = (w.pageYOffset || root.scrollTop) + w.innerHeight;
    var depth = height > 0 ? Math.min(100, Math.round((seen / height) * 100)) : 100;
    if (depth > maxScroll) maxScroll = depth;
  }

  function pageview() {
    var url = loc.href;
    if (url == lastUrl) return;
    var referrer = lastUrl || d.referrer;
    if (lastUrl && sessionId) measurements(); // the previous route's scroll and engaged time
    lastUrl = url;
    maxScroll = reportedScroll = 0;
    setTimeout(
      safe(function () {
        noteScroll();
        // A single-page app usually sets the new title just after it changes the URL.
        enqueue({ type: "pageview", url: text(url, 2048), title: text(d.title, 512), referrer: text(referrer, 2048) });
      }),
      0
    );
  }

  function onClick(event) {
    var target = event.target, element = target && target.closest && target.closest("a[href],button,[role=button],input[type=submit]");
    // An element tagged data-pulse-event records that custom event, its data-pulse-prop-* as properties.
    var tagged = target && target.closest && target.closest("[data-pulse-event]");
    if (tagged) {
      var props = {}, attributes = tagged.attributes;
      for (var i = 0; i < attributes.length; i++) {
        var match = /^data-pulse-prop-(.+)/.exec(attributes[i].name);
        if (match) props[match[1]] = attributes[i].value;
      }
      P.track(tagged.getAttribute("data-pulse-event"), props);
    }
    if (!element) return;
    var label = text((element.innerText || element.value || element.id || "").trim(), 256);
    if (element.tagName == "A") {
      // An <a> already knows its resolved parts: no URL parsing needed.
      if (!/^https?:$/.test(element.protocol)) return;
      var type = element.host != loc.host ? "outbound" : element.hasAttribute("download") || DOWNLOADS.test(element.pathname) ? "download" : "click";
      enqueue({ type: type, name: label, url: here(), props: { href: text(element.href, 512) } });
    } else {
      enqueue({ type: "click", name: label, url: here() });
    }
  }

  function formName(form) {
    return text(form.getAttribute("data-pulsegate-source") || form.getAttribute("name") || form.id || form.getAttribute("action") || "form", 256);
  }

  /** form.js reports a form that came into view (half of it on screen, once per page view). */
  P.formSeen = safe(function (form) {
    if (cfg) enqueue({ type: "form_view", name: formName(form), url: here() });
  });

  function onFormInput(event) {
    var form = event.target && event.target.form;
    if (!form || form.pulsegateStarted) return;
    form.pulsegateStarted = 1;
    enqueue({ type: "form_start", name: formName(form), url: here() });
  }

  function onSubmit(event) {
    var form = event.target;
    if (form && form.tagName == "FORM") enqueue({ type: "form_submit", name: formName(form), url: here() });
  }

  function wrapHistory(name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      safe(pageview)();
      return result;
    };
  }

  function privacyRequested() {
    return (navigator.doNotTrack || w.doNotTrack) == "1" || navigator.globalPrivacyControl === true;
  }

  /** Options from the script tag: data-project, data-endpoint, data-respect-dnt. */
  P.scriptOptions = function (tag) {
    var data = (tag && tag.dataset) || {};
    var options = {};
    if (data.project) options.project = data.project;
    if (data.endpoint) options.endpoint = data.endpoint;
    if (data.respectDnt) options.respectDoNotTrack = data.respectDnt != "false";
    try {
      if (tag && tag.src) options.scriptOrigin = new URL(tag.src, loc.href).origin;
    } catch (e) {
      /* an odd src: the page's own origin is the default */
    }
    return options;
  };

  /** Start tracking this page: {project, endpoint (default: where the script came from), respectDoNotTrack}. */
  P.startTracking = safe(function (options) {
    if (cfg) return;
    options = options || {};
    cfg = {
      project: options.project,
      endpoint: String(options.endpoint || options.scriptOrigin || loc.origin).replace(/\/+$/, ""),
    };
    P.config = cfg;
    if (options.respectDoNotTrack && privacyRequested()) {
      stopped = 1;
      return;
    }
    visitorId = storage("localStorage", VISITOR_KEY);
    if (!visitorId) storage("localStorage", VISITOR_KEY, (visitorId = randomId()));
    sessionId = storage("sessionStorage", SESSION_KEY);
    lastInput = Date.now(); // arriving on the page counts as the first input
    noteScroll();
    if (sessionId) {
      // The tab's session goes on (next page of the site, or a reload): this page is a view in it.
      lastUrl = null;
      pageview();
    } else {
      startSession();
    }
    wrapHistory("pushState");
    wrapHistory("replaceState");
    var listen = function (target, type, handler, capture) {
      target.addEventListener(type, safe(handler), capture ? true : { passive: true });
    };
    listen(w, "popstate", pageview);
    listen(w, "hashchange", pageview);
    listen(w, "scroll", noteScroll);
    ["mousemove", "keydown", "scroll", "touchstart", "click"].forEach(function (type) {
      listen(w, type, function () {
        noteInput(false);
      });
    });
    listen(d, "click", onClick, true);
    listen(d, "input", onFormInput, true);
    listen(d, "change", onFormInput, true);
    listen(d, "submit", onSubmit, true);
    listen(d, "visibilitychange", function () {
      if (d.visibilityState == "hidden") leave();
      else {
        lastInput = Date.now();
        leftPage = 0; // back on the tab: leaving again reports the time spent since
      }
    });
    listen(w, "pagehide", leave);
    // Back from the back/forward cache: the page lives again, as a new view in the tab's session.
    listen(w, "pageshow", function (event) {
      if (!event.persisted) return;
      sessionId = storage("sessionStorage", SESSION_KEY) || sessionId;
      leftPage = 0;
      lastInput = Date.now();
      lastUrl = null;
      pageview();
    });
  });

  /** Record a custom event: PulseGate.track("signup", {plan: "pro"}). */
  P.track = safe(function (name, props) {
    if (!cfg) return;
    enqueue({ type: "custom", name: text(name, 256), url: here(), props: cleanProps(props) });
  });
  P.track.live = 1;
  /** The ids form.js sends with a lead, linking it to this visit. */
  P.ids = function () {
    return stopped ? {} : { session_id: sessionId || undefined, visitor_id: visitorId || undefined };
  };

  // tracker.js on its own starts at once with its script tag's options; inside pulse.js,
  // PulseGate.init (or the tag's data-project) starts it.
  if (!P.bundled) P.startTracking(P.scriptOptions(script));
})(window, document);
