/* PulseGate tracker: sessions, page views, clicks, scroll depth, engaged time and custom events.
 * Load it with <script src="https://YOUR-PULSEGATE/tracker.js" data-project="acme" defer></script>;
 * PulseGate.track(name, props) records a custom event; so does a click on an element tagged
 * data-pulse-event="Name", with data-pulse-prop-KEY="value" as its properties. The server minifies this
 * file when serving it.
 *
 * Written for its size over the wire (gzipped; tests/unit/test_browser_scripts.py holds the budget):
 * the minifier drops comments and shortens local names but keeps property names, strings and
 * numbers as written. So limits are written where they are used (5e3 is 5,000) with their meaning
 * in a comment, globals used often are locals (`undefined` too), and one function makes each kind
 * of thing that has many parts (an interaction event, a request, a listener). gzip makes a repeated
 * call such as el.getAttribute("x") nearly free: a helper wrapping one short call costs more than
 * it saves, so there is none. */
(function (w, d, undefined) {
  var P = (w.PulseGate = w.PulseGate || {});
  if (P.ids) return; // loaded twice (only the tracker defines PulseGate.ids): the first copy keeps tracking

  var TRACK_PATH = "/track"; // the server rewrites this when web.tracking_prefix is set
  var BATCH = "/events/batch",
    END = "/session/end",
    loc = w.location,
    nav = navigator,
    now = Date.now, // Date.now needs no `this`
    script = d.currentScript,
    cfg, // the options once tracking (never set when the visitor asked not to be tracked)
    sessionId,
    visitorId,
    busy, // a session start or a batch is in flight: one at a time, so events arrive in order
    queue = [],
    timer,
    blockedUntil = {}, // by route: after a 429, nothing goes there before this time
    failures = 0,
    lastUrl,
    leftPage,
    engagedMs = 0,
    reportedEngagedMs = 0,
    lastInput,
    maxScroll = 0,
    reportedScroll = 0;

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

  // The tab's session id (sessionStorage) or, with `visitor`, the visitor's id across visits
  // (localStorage): read without `value`, else store it ("" for none). Storage may be refused
  // (private mode, sandboxed frame): the page still counts.
  function storage(visitor, value) {
    try {
      var area = visitor ? w.localStorage : w.sessionStorage,
        key = visitor ? "pulsegate_visitor" : "pulsegate_session";
      if (value === undefined) return area.getItem(key);
      area.setItem(key, value);
    } catch (e) {
      /* refused */
    }
  }

  // Cut to `max` characters without splitting an emoji (half a pair is invalid JSON for the server):
  // when the last kept character is a high surrogate (0xD800-0xDBFF: >> 10 gives 54), it goes too.
  function text(value, max) {
    if (value != null) {
      value = String(value);
      return value.slice(0, max - (value.charCodeAt(max - 1) >> 10 == 54));
    }
  }

  // An interaction on this page (its name cut to the server's 256 characters), to the queue.
  function add(type, name, props) {
    enqueue({ type: type, name: text(name, 256), url: text(loc.href, 2048), props: props });
  }

  function blocked(path) {
    return now() < blockedUntil[path];
  }

  // POST `body`; keepalive (the request outlives the page) whenever it is small enough: browsers
  // refuse keepalive bodies past 64 KB in flight. Then done(status, response), status 0 when the
  // network failed. A 429 holds the route for its Retry-After (seconds; a minute if it has none).
  function send(path, body, done) {
    if (blocked(path)) return done(429);
    body = JSON.stringify(body);
    fetch(cfg.endpoint + TRACK_PATH + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Visitor-ID": visitorId },
      body: body,
      keepalive: body.length < 6e4,
      credentials: "omit",
    }).then(
      safe(function (response) {
        var status = response.status,
          wait = parseInt(response.headers.get("Retry-After"));
        if (status == 429) blockedUntil[path] = now() + 1e3 * (wait >= 0 ? wait : 60);
        done(status, response);
      }),
      safe(function () {
        done(0);
      })
    );
  }

  // Events go with the session's id: a batch (up to 100, the server's limit) or a session end.
  function sendEvents(path, events, done, body) {
    body = body || {};
    body.session_id = sessionId;
    body.events = events[0] ? events : undefined;
    send(path, body, done);
  }

  function startSession() {
    if (busy) return;
    busy = 1;
    lastUrl = loc.href;
    send(
      "/session/start",
      {
        url: text(lastUrl, 2048),
        referrer: text(d.referrer, 2048) || undefined,
        title: text(d.title, 512),
        project: cfg.project,
        screen_width: screen.width,
        screen_height: screen.height,
        language: text(nav.language, 35),
        timezone: text(Intl.DateTimeFormat().resolvedOptions().timeZone, 64),
        timestamp: now(),
      },
      function (status, response) {
        if (status != 200) return (busy = 0);
        response.json().then(
          safe(function (receipt) {
            storage(0, (sessionId = receipt.session_id));
            busy = 0;
            schedule();
          }),
          function () {
            busy = 0;
          }
        );
      }
    );
  }

  // Queued events wait up to 5 s, and 100 go at once; past 500 the server is unreachable, and
  // the oldest make room for the newest.
  function enqueue(event) {
    event.timestamp = now();
    if (queue.push(event) > 500) queue.shift();
    leftPage = 0;
    next();
  }

  function next() {
    if (queue[0]) queue[99] ? flush() : schedule();
  }

  function schedule() {
    timer = timer || setTimeout(safe(flush), 5e3);
  }

  // Engaged time (once a second or more) and scroll depth not yet reported, queued last.
  function measurements() {
    noteInput();
    var engaged = engagedMs - reportedEngagedMs;
    if (engaged >= 1e3) {
      queue.push({ type: "engagement", props: { engaged_ms: engaged }, timestamp: now() });
      reportedEngagedMs = engagedMs;
    }
    if (maxScroll > reportedScroll) queue.push({ type: "scroll", props: { depth: maxScroll }, timestamp: now() });
    reportedScroll = maxScroll;
  }

  // Not stored for now (rate limited, the server or the network down): worth another try.
  function transient(status) {
    return status == 429 || !status || status >= 500;
  }

  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (busy) return;
    if (!sessionId) return startSession();
    if (!queue[0] || blocked(BATCH)) return queue[0] && schedule();
    measurements();
    sendBatch(100);
  }

  // The first `count` queued events, as one batch.
  function sendBatch(count) {
    var batch = queue.splice(0, count);
    busy = 1;
    sendEvents(BATCH, batch, function (status) {
      busy = 0;
      if (status == 200) {
        failures = 0;
        next();
      } else if (status == 404) {
        // The server no longer knows the session (it idled out): begin a new one on this page,
        // which records this page's view itself, and send the other events into it.
        storage(0, (sessionId = ""));
        var url = loc.href;
        queue = batch.concat(queue).filter(function (event) {
          return event.type != "pageview" || event.url != url;
        });
        startSession();
      } else if (transient(status)) {
        // Not stored: the batch goes back for a later try, three more times at most.
        if (++failures < 4) queue = batch.concat(queue);
        else failures = 0;
        schedule();
      }
      // Any other answer (400, 413) means the batch itself is wrong: sending it again cannot help.
    });
  }

  // Leaving (tab hidden, page closed, next page): send what is queued with the session end, so
  // one request carries it all and survives the page going away. If the page is still there
  // when the end fails (a hidden tab), its events go back in the queue.
  function leave() {
    if (!sessionId || leftPage) return;
    leftPage = 1;
    clearTimeout(timer);
    timer = 0;
    noteInput();
    // Over the end's budget: the events still go, by the batch route; the idle sweep ends it.
    if (blocked(END)) return flush();
    // The end carries 20 events; more go in a batch beside it.
    if (queue[20] && !busy && !blocked(BATCH)) sendBatch(Math.min(queue.length - 20, 100));
    var carried = queue.splice(0, 20),
      engagedBefore = reportedEngagedMs,
      end = { timestamp: now(), engaged_ms: engagedMs - reportedEngagedMs, max_scroll: maxScroll };
    reportedEngagedMs = engagedMs;
    reportedScroll = maxScroll;
    sendEvents(
      END,
      carried,
      function (status) {
        if (!transient(status)) return;
        queue = carried.concat(queue);
        reportedEngagedMs = engagedBefore;
        leftPage = 0;
      },
      end
    );
  }

  // Engaged time: the gaps between inputs while the page is visible, when shorter than 30 s.
  // Called with an input's event; without one (at a flush or on leaving) it counts up to now
  // without being an input itself.
  function noteInput(input) {
    var time = now(),
      recent = time - lastInput < 3e4;
    if (recent) engagedMs += time - lastInput;
    if (recent || input) lastInput = d.visibilityState == "hidden" ? 0 : time;
  }

  function noteScroll() {
    var root = d.documentElement,
      height = Math.max(root.scrollHeight, (d.body || root).scrollHeight),
      depth = Math.min(100, Math.round(((w.pageYOffset + w.innerHeight) / height) * 100));
    if (depth > maxScroll) maxScroll = depth;
  }

  function pageview() {
    var url = loc.href,
      referrer = lastUrl || d.referrer;
    if (url == lastUrl) return;
    if (lastUrl && sessionId) measurements(); // the previous route's scroll and engaged time
    lastUrl = url;
    maxScroll = reportedScroll = 0;
    setTimeout(
      safe(function () {
        noteScroll();
        // A single-page app usually sets the new title just after it changes the URL.
        enqueue({ type: "pageview", url: text(url, 2048), title: text(d.title, 512), referrer: text(referrer, 2048) });
      })
    );
  }

  // The server refuses a whole batch for one bad field, so props are cut to what it accepts:
  // 30 keys of up to 64 characters, strings of up to 512, numbers and booleans (JSON writes
  // NaN and Infinity as null, which the server drops alone).
  function cleanProps(props) {
    var clean,
      count = 0;
    if (typeof props == "object")
      for (var key in props) {
        var value = props[key],
          kind = typeof value;
        if (count < 30 && key && /^(string|number|boolean)$/.test(kind)) {
          (clean = clean || {})[text(key, 64)] = kind == "string" ? text(value, 512) : value;
          count++;
        }
      }
    return clean;
  }

  function onClick(event) {
    var target = event.target,
      // A target that is no element has no closest(): that throws, and safe() swallows it.
      element = target.closest("a[href],button,[role=button],input[type=submit]"),
      // An element tagged data-pulse-event records that custom event, its data-pulse-prop-* as properties.
      tagged = target.closest("[data-pulse-event]"),
      props = {};
    if (tagged) {
      [].forEach.call(tagged.attributes, function (attribute) {
        var match = /^data-pulse-prop-(.+)/.exec(attribute.name);
        if (match) props[match[1]] = attribute.value;
      });
      P.track(tagged.getAttribute("data-pulse-event"), props);
    }
    if (!element) return;
    var label = (element.innerText || element.value || element.id || "").trim();
    if (element.tagName != "A") return add("click", label);
    // An <a> already knows its resolved parts: no URL parsing needed.
    if (/^https?:$/.test(element.protocol))
      add(
        element.host != loc.host
          ? "outbound"
          : element.hasAttribute("download") ||
              /\.(pdf|zip|gz|rar|7z|dmg|exe|msi|pkg|deb|apk|iso|csv|xlsx?|docx?|pptx?|mp[34]|mov)$/i.test(element.pathname)
            ? "download"
            : "click",
        label,
        { href: text(element.href, 512) }
      );
  }

  // A form's events are named by its data-pulsegate-source, name, id or action.
  function addForm(type, form) {
    add(type, form.getAttribute("data-pulsegate-source") || form.getAttribute("name") || form.id || form.getAttribute("action") || "form");
  }

  /** form.js reports a form that came into view (half of it on screen, once per page view). */
  P.formSeen = safe(function (form) {
    if (cfg) addForm("form_view", form);
  });

  function onFormInput(event) {
    var form = event.target.form;
    if (form && !form.pulsegateStarted) {
      form.pulsegateStarted = 1;
      addForm("form_start", form);
    }
  }

  function onSubmit(event) {
    if (event.target.tagName == "FORM") addForm("form_submit", event.target);
  }

  /** Start tracking this page: {project, endpoint (default: where the script came from),
   * respectDoNotTrack}; the script tag's data-project, data-endpoint and data-respect-dnt fill
   * the gaps (pulse.js's PulseGate.init is this function). */
  P.startTracking = safe(function (options) {
    var data = (script && script.dataset) || {},
      origin,
      // An option given (not null) wins over the tag's attribute; an empty attribute is none.
      option = function (key, attribute) {
        return options[key] != null ? options[key] : attribute || undefined;
      };
    if (P.config) return;
    options = options || {};
    try {
      origin = new URL(script.src).origin;
    } catch (e) {
      /* no tag, or no or an odd src: the page's own origin is the default */
    }
    P.config = {
      project: option("project", data.project),
      endpoint: String(option("endpoint", data.endpoint) || origin || loc.origin).replace(/\/+$/, ""),
    };
    // Do Not Track or Global Privacy Control, when the site honours them: nothing is tracked.
    if (
      option("respectDoNotTrack", data.respectDnt && data.respectDnt != "false") &&
      ((nav.doNotTrack || w.doNotTrack) == "1" || nav.globalPrivacyControl == 1)
    )
      return;
    cfg = P.config;
    storage(1, (visitorId = storage(1) || now().toString(36) + Math.random().toString(36).slice(2)));
    lastInput = now(); // arriving on the page counts as the first input
    noteScroll();
    // The tab's session goes on (next page of the site, or a reload): this page is a view in it.
    if ((sessionId = storage(0))) pageview();
    else startSession();
    var listen = function (target, types, handler, capture) {
      types.split(" ").forEach(function (type) {
        target.addEventListener(type, safe(handler), capture || { passive: 1 });
      });
    };
    ["pushState", "replaceState"].forEach(function (name) {
      var original = history[name],
        onPageview = safe(pageview);
      history[name] = function () {
        var result = original.apply(this, arguments);
        onPageview();
        return result;
      };
    });
    listen(w, "popstate hashchange", pageview);
    listen(w, "scroll", noteScroll);
    listen(w, "mousemove keydown scroll touchstart click", noteInput);
    listen(d, "click", onClick, 1);
    listen(d, "input change", onFormInput, 1);
    listen(d, "submit", onSubmit, 1);
    listen(d, "visibilitychange", function () {
      if (d.visibilityState == "hidden") return leave();
      // Back on the tab: that counts as an input, and leaving again reports the time spent since.
      lastInput = now();
      leftPage = 0;
    });
    listen(w, "pagehide", leave);
    // Back from the back/forward cache: the page lives again, as a new view in the tab's session.
    listen(w, "pageshow", function (event) {
      if (!event.persisted) return;
      sessionId = storage(0) || sessionId;
      lastInput = now();
      leftPage = 0;
      lastUrl = null;
      pageview();
    });
  });

  /** Record a custom event: PulseGate.track("signup", {plan: "pro"}). */
  P.track = safe(function (name, props) {
    if (cfg) add("custom", name, cleanProps(props));
  });
  /** The ids form.js sends with a lead, linking it to this visit (none when not tracking). */
  P.ids = function () {
    return cfg ? { session_id: sessionId || undefined, visitor_id: visitorId } : {};
  };

  // tracker.js on its own starts at once with its script tag's options; inside pulse.js,
  // PulseGate.init (or the tag's data-project) starts it.
  if (!P.bundled) P.startTracking();
})(window, document);
