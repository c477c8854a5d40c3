"""Anomaly detection over hourly series (pure): the form that broke, the traffic that jumped or
vanished, and the flood from hosting and VPN networks.

Every detector compares the recent window with the same clock hours on the same weekday of the
previous four weeks (7, 14, 21 and 28 days back), so daily and weekly rhythms are the baseline,
not alarms. Weeks with no data at all are left out; with no baseline week there is no finding.

- Submission drop: leads in the window against the baseline's leads-per-session rate times
  this window's sessions (a quiet night expects few leads). Flagged when the Poisson probability
  of seeing so few is below `alpha`, or when there are none where at least 3 were expected.
- Traffic spike / drop: sessions in the window against the median of the baseline weeks, in
  units of their median absolute deviation (robust z). Flagged beyond `z` when the window or the
  baseline has at least `min_sessions`, so tiny sites do not alert on noise.
- VPN / hosting ratio: the share of sessions from hosting and VPN networks, flagged above
  `vpn_share` (with at least `min_sessions`), or above three times the baseline share and 20
  points over it.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from msgspec import Struct

from pulsegate.errors import InvalidInput

HOUR_MS = 3_600_000
WEEK_MS = 7 * 24 * HOUR_MS
BASELINE_WEEKS = (1, 2, 3, 4)
MAD_TO_SIGMA = 1.4826  # a normal distribution's sigma is 1.4826 of its median absolute deviation
Sensitivity = Literal["low", "normal", "high"]
Kind = Literal["submission_drop", "traffic_spike", "traffic_drop", "vpn_ratio"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What counts as anomalous at one sensitivity."""

    alpha: float  # Poisson tail probability for a submission drop
    z: float  # robust z for traffic
    min_sessions: int
    vpn_share: float


SENSITIVITIES: dict[str, Thresholds] = {
    "low": Thresholds(alpha=0.001, z=6.0, min_sessions=50, vpn_share=0.7),
    "normal": Thresholds(alpha=0.01, z=4.0, min_sessions=20, vpn_share=0.5),
    "high": Thresholds(alpha=0.05, z=3.0, min_sessions=10, vpn_share=0.35),
}


@dataclass(frozen=True, slots=True)
class HourCounts:
    """One hour of one project: sessions, of which from hosting/VPN networks, and leads."""

    sessions: int = 0
    hosting: int = 0
    leads: int = 0


class Finding(Struct, kw_only=True):
    """One anomaly, with what was seen, what was expected, and a sentence for people."""

    kind: Kind
    project: str | None
    window_start: int  # epoch ms
    window_end: int
    observed: float
    expected: float
    score: float  # a probability for submission drops, a robust z for traffic, a share for VPN
    severity: Literal["warning", "critical"]
    message: str


def poisson_cdf(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if mean <= 0:
        return 1.0
    # In log space: exp(-mean) underflows to 0 past a mean of about 745 (a busy site's window).
    log_mean = math.log(mean)
    return min(math.fsum(math.exp(i * log_mean - mean - math.lgamma(i + 1)) for i in range(k + 1)), 1.0)


def _window_total(series: Mapping[int, HourCounts], start: int, hours: int) -> HourCounts:
    sessions = hosting = leads = 0
    for hour in range(hours):
        counts = series.get(start + hour * HOUR_MS)
        if counts is not None:
            sessions += counts.sessions
            hosting += counts.hosting
            leads += counts.leads
    return HourCounts(sessions, hosting, leads)


def detect(
    series: Mapping[int, HourCounts],
    *,
    project: str | None,
    window_end_ms: int,
    window_hours: int,
    sensitivity: Sensitivity = "normal",
) -> list[Finding]:
    """Findings for one project's hourly series (keys: epoch ms of each hour's start).

    The window is the `window_hours` whole hours ending at `window_end_ms` (rounded down to
    the hour, so the current partial hour is not compared with full ones).
    """
    limits = SENSITIVITIES[sensitivity]
    end = window_end_ms - window_end_ms % HOUR_MS
    start = end - window_hours * HOUR_MS
    current = _window_total(series, start, window_hours)
    baseline = [_window_total(series, start - weeks * WEEK_MS, window_hours) for weeks in BASELINE_WEEKS]
    baseline = [week for week in baseline if week.sessions > 0]
    if not baseline:
        return []
    name = f"project {project}" if project else "all projects"
    span = f"the last {window_hours} h"
    findings: list[Finding] = []

    def add(kind: Kind, observed: float, expected: float, score: float, critical: bool, message: str) -> None:
        findings.append(
            Finding(
                kind=kind,
                project=project,
                window_start=start,
                window_end=end,
                observed=observed,
                expected=round(expected, 2),
                score=round(score, 6),
                severity="critical" if critical else "warning",
                message=message,
            )
        )

    # Submission drop: the baseline's lead rate, applied to this window's traffic.
    baseline_sessions = sum(week.sessions for week in baseline)
    rate = sum(week.leads for week in baseline) / baseline_sessions
    expected_leads = rate * current.sessions
    probability = poisson_cdf(current.leads, expected_leads)
    zero_where_expected = current.leads == 0 and expected_leads >= 3
    if expected_leads > 0 and (probability < limits.alpha or zero_where_expected):
        message = f"Lead submissions for {name}: {current.leads} in {span}, {expected_leads:.1f} expected"
        add(
            "submission_drop",
            current.leads,
            expected_leads,
            probability,
            probability < limits.alpha / 10,
            message,
        )

    # Traffic: robust z against the baseline weeks.
    weekly = [week.sessions for week in baseline]
    median = statistics.median(weekly)
    mad = statistics.median(abs(value - median) for value in weekly)
    # A floor under the spread: identical weeks (MAD 0) must not make every change infinite.
    spread = max(MAD_TO_SIGMA * mad, math.sqrt(max(median, 1.0)))
    z = (current.sessions - median) / spread
    big_enough = max(current.sessions, median) >= limits.min_sessions
    if big_enough and abs(z) > limits.z:
        kind: Kind = "traffic_spike" if z > 0 else "traffic_drop"
        direction = "up" if z > 0 else "down"
        message = f"Sessions for {name} are {direction}: {current.sessions} in {span}, {median:.0f} usual"
        add(kind, current.sessions, median, z, abs(z) > 2 * limits.z, message)

    # Hosting / VPN share.
    if current.sessions >= limits.min_sessions:
        share = current.hosting / current.sessions
        usual = sum(week.hosting for week in baseline) / baseline_sessions
        above_usual = share > 3 * usual and share - usual > 0.2
        if share > limits.vpn_share or above_usual:
            message = (
                f"Sessions from hosting/VPN networks for {name}: {share:.0%} in {span}, {usual:.0%} usual"
            )
            add("vpn_ratio", round(share, 4), usual, share, share > max(limits.vpn_share, 0.8), message)
    return findings


# The user's window and sensitivity, as the API and the CLI take them.
WINDOW = re.compile(r"^([0-9]{1,2})h$")
MAX_WINDOW_HOURS = 72
DEFAULT_WINDOW_HOURS = 6


class AnomalyReport(Struct, kw_only=True):
    """GET /analytics/anomalies and `pulsegate anomalies scan`."""

    scanned_at: int  # epoch ms
    window_hours: int
    sensitivity: str
    findings: list[Finding]


def window_hours(text: str | None) -> int:
    """`6h` → 6; 400 naming `window` otherwise."""
    if text is None or text == "":
        return DEFAULT_WINDOW_HOURS
    match = WINDOW.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= MAX_WINDOW_HOURS:
        raise InvalidInput(f"window: whole hours from 1h to {MAX_WINDOW_HOURS}h, such as 6h (got {text!r})")
    return int(match.group(1))


def sensitivity_of(text: str | None) -> Sensitivity:
    """`low`, `normal` (default) or `high`; 400 naming `sensitivity` otherwise."""
    if text is None or text == "":
        return "normal"
    if text not in ("low", "normal", "high"):
        raise InvalidInput(f"sensitivity: one of low, normal, high (got {text!r})")
    return text  # type: ignore[return-value]
