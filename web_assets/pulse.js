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

  var queued = Array.isArray(P.q) ? P.q : []; // calls the snippet's stub kept for us
  var initQueued = queued.some(function (call) {
    return call[0] == "init";
  });
  if (fromTag.project && !initQueued) P.init();
  P.replay();
})(window, document);
