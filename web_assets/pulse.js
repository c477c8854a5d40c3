/* PulseGate pulse.js: served as tracker.js + form.js + this file, which adds PulseGate.init.
 *   <script src="https://YOUR-PULSEGATE/pulse.js" defer></script>
 *   <script>PulseGate.init({project: "acme"})</script>   (or data-project="acme" on the tag)
 * The endpoint defaults to the origin this script was loaded from. */
(function (P, tag) {
  if (P.init == P.startTracking) return; // loaded twice: the first copy is in charge

  /** Start tracking: {project, endpoint, respectDoNotTrack}; the script tag's data- attributes
   * fill the gaps (the tracker reads the tag, which is this same script). */
  P.init = P.startTracking;

  // Calls the page made through the snippet's stub before this script ran, in order; later
  // calls to PulseGate.q.push (the stub's own methods, if a page kept them) run at once. The
  // tag's data-project starts tracking at once, unless an init call is waiting with its options.
  var queued = Array.isArray(P.q) ? P.q : [];
  if (
    tag &&
    tag.dataset.project &&
    !queued.some(function (call) {
      return call[0] == "init";
    })
  )
    P.init();
  P.q = {
    push: function (call) {
      try {
        P[call[0]].apply(P, call[1]);
      } catch (e) {
        /* a queued call must not break the page */
      }
    },
  };
  queued.forEach(P.q.push);
})(window.PulseGate, document.currentScript);
