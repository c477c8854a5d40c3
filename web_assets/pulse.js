/* PulseGate pulse.js: served as tracker.js + form.js + this file, which adds PulseGate.init.
 *   <script src="https://YOUR-PULSEGATE/pulse.js" defer></script>
 *   <script>PulseGate.init({project: "acme"})</script>   (or data-project="acme" on the tag)
 * The endpoint defaults to the origin this script was loaded from. */
(function (w, d) {
  "use strict";
  var P = w.PulseGate;
  if (P.init && P.init.live) return; // loaded twice: the first copy is in charge
  var fromTag = P.scriptOptions(d.currentScript);

  /** Start tracking: {project, endpoint, respectDoNotTrack}; the script tag's data- attributes fill the gaps. */
  P.init = function (options) {
    var merged = {};
    [fromTag, options || {}].forEach(function (source) {
      for (var key in source) if (source[key] != null) merged[key] = source[key];
    });
    P.startTracking(merged);
  };
  P.init.live = 1;

  // Calls the page made through the snippet's stub before this script ran, in order; later
  // calls to PulseGate.q.push (the stub's own methods, if a page kept them) run at once.
  var queued = Array.isArray(P.q) ? P.q : [];
  var initQueued = queued.some(function (call) {
    return call[0] == "init";
  });
  if (fromTag.project && !initQueued) P.init();
  P.q = {
    push: function (call) {
      try {
        if (P[call[0]]) P[call[0]].apply(P, call[1]);
      } catch (e) {
        /* a queued call must not break the page */
      }
    },
  };
  queued.forEach(P.q.push);
})(window, document);
