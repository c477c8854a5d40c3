"""Funnels: ordered steps toward a conversion (pure): the steps, `within` and `window`, and the answer.

A funnel is 2 to 8 steps, each `page:PATTERN` (a page view matching a pattern, `*` any
characters), `event:NAME` (a custom event), `goal:NAME` (a goal's conversion) or `lead` (a lead
that is not spam). A visitor reaches step k when, after reaching step k-1, they take step k in a
later event: in the same session (`within=session`, the default), or in any of their sessions no
later than `window` after their first step (`within=visitor`). Events whose moments cannot be
ordered (the same receive time and browser clock) do not follow one another. Each visitor counts
once per step, through their deepest journey (the earliest of equally deep ones), which also
gives the times between steps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from pulsegate.domain.goals import MAX_PATTERN, Goal, check_name
from pulsegate.errors import InvalidInput

StepKind = Literal["page", "event", "goal", "lead"]
Within = Literal["session", "visitor"]
MIN_STEPS, MAX_STEPS = 2, 8
MAX_EVENT_NAME = 120
DEFAULT_WINDOW_MS = 7 * 86_400_000  # within=visitor without `window`
MAX_WINDOW_MS = 90 * 86_400_000
_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
_WINDOW = re.compile(r"^([1-9][0-9]{0,4})([mhd])$")
_LABELS = {"page": "Page", "event": "Event", "goal": "Goal", "lead": "Lead"}


class FunnelStep(msgspec.Struct, frozen=True):
    """One step: its kind and the page pattern, event name or goal name (None for `lead`)."""

    kind: StepKind
    value: str | None = None

    @property
    def text(self) -> str:
        """As written in `step=`: `page:/pricing`, `event:Book demo`, `goal:Signup`, `lead`."""
        return self.kind if self.value is None else f"{self.kind}:{self.value}"

    @property
    def label(self) -> str:
        """For people: `Page /pricing`, `Event Book demo`, `Lead`."""
        return _LABELS[self.kind] if self.value is None else f"{_LABELS[self.kind]} {self.value}"


def parse_step(text: str) -> FunnelStep:
    """One `step=` value, or InvalidInput naming what is wrong with it."""
    kind, sep, value = text.partition(":")
    if kind == "lead" and not sep:
        return FunnelStep("lead")
    if not sep or kind not in ("page", "event", "goal"):
        raise InvalidInput(f"step: write page:PATTERN, event:NAME, goal:NAME or lead (got {text!r})")
    if kind == "page":
        if not value.startswith("/") or len(value) > MAX_PATTERN:
            raise InvalidInput(
                f"step: a page pattern starts with / and has at most {MAX_PATTERN} characters (* for any); "
                f"got {text!r}"
            )
        return FunnelStep("page", value)
    if not value.strip() or len(value) > MAX_EVENT_NAME:
        raise InvalidInput(f"step: {kind}: needs a name of 1-{MAX_EVENT_NAME} characters (got {text!r})")
    return FunnelStep(kind, value)  # type: ignore[arg-type]


def parse_window(text: str) -> int:
    """`30m`, `12h` or `7d` as milliseconds (at most 90 days), or InvalidInput."""
    match = _WINDOW.match(text.strip())
    if not match:
        raise InvalidInput(f"window: a number and m, h or d, like 30m, 12h or 7d (got {text!r})")
    window_ms = int(match[1]) * _UNITS_MS[match[2]]
    if window_ms > MAX_WINDOW_MS:
        raise InvalidInput("window: at most 90d")
    return window_ms


def format_window(window_ms: int) -> str:
    """Milliseconds as the largest whole unit: 604800000 -> `7d`."""
    for unit in ("d", "h", "m"):
        if window_ms % _UNITS_MS[unit] == 0:
            return f"{window_ms // _UNITS_MS[unit]}{unit}"
    return f"{window_ms}ms"


class Funnel(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A funnel to run: its steps, where they must happen, and (saved funnels) its name and project."""

    steps: tuple[FunnelStep, ...]
    within: Within = "session"
    window_ms: int | None = None  # within=visitor only: how long after the first step
    name: str | None = None
    project: str | None = None


def funnel(
    steps: Sequence[str],
    within: str | None = None,
    window: str | None = None,
    *,
    name: str | None = None,
    project: str | None = None,
) -> Funnel:
    """A checked Funnel from `step=`, `within=` and `window=`, or InvalidInput."""
    if name is not None:
        name = check_name(name)
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise InvalidInput(f"step: a funnel has {MIN_STEPS} to {MAX_STEPS} steps (got {len(steps)})")
    parsed = tuple(parse_step(text) for text in steps)
    chosen = within or "session"
    if chosen not in ("session", "visitor"):
        raise InvalidInput(f"within: session or visitor (got {within!r})")
    window_ms = None
    if chosen == "visitor":
        window_ms = parse_window(window) if window else DEFAULT_WINDOW_MS
    elif window:
        raise InvalidInput("window: only with within=visitor (a session is its own window)")
    return Funnel(steps=parsed, within=chosen, window_ms=window_ms, name=name, project=project)  # type: ignore[arg-type]


def step_goal(step: FunnelStep, goals: Mapping[str, Goal]) -> Goal:
    """What a step matches, as a goal (a `goal:` step's own goal), or InvalidInput for an unknown goal."""
    if step.kind == "goal":
        found = goals.get(step.value or "")
        if found is None:
            names = ", ".join(sorted(goals)) or "none yet (pulsegate goals add)"
            raise InvalidInput(f"step: no goal named {step.value!r}; goals: {names}")
        return found
    if step.kind == "page":
        return Goal(name=step.text, kind="page", page=step.value)
    if step.kind == "event":
        return Goal(name=step.text, kind="event", event=step.value)
    return Goal(name=step.text, kind="lead")


class FunnelStepResult(msgspec.Struct, kw_only=True):
    """One step of GET /analytics/funnel."""

    step: str  # as written: page:/pricing
    label: str
    visitors: int  # who reached it after the earlier steps, in order
    conversion_rate: float | None  # % of the first step's visitors (null when it has none)
    step_conversion_rate: float | None  # % of the previous step's visitors
    dropoff: int  # the previous step's visitors who did not reach this one
    median_ms_from_previous: float | None  # over the visitors who reached it (null for the first)


def step_results(
    steps: Sequence[FunnelStep], reached: Sequence[int], medians: Sequence[float | None]
) -> list[FunnelStepResult]:
    """Each step's numbers from the visitors who reached it and the median time from the previous."""
    first = reached[0] if reached else 0
    results = []
    for n, step in enumerate(steps):
        previous = reached[n - 1] if n else reached[0]
        results.append(
            FunnelStepResult(
                step=step.text,
                label=step.label,
                visitors=reached[n],
                conversion_rate=100 * reached[n] / first if first else None,
                step_conversion_rate=100 * reached[n] / previous if previous else None,
                dropoff=previous - reached[n],
                median_ms_from_previous=medians[n] if n else None,
            )
        )
    return results
