"""Goals: what counts as a conversion (a custom event, a page view matching a pattern, a lead).

A goal is declared once (`pulsegate goals add`, or the config file) and checked here: exactly
one kind, the options of that kind only, bounded names. `page_matches` is the plain meaning of a
page pattern (`*` is any run of characters, everything else itself) that the SQL must agree with.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput

GoalKind = Literal["event", "page", "lead"]
MAX_NAME = 64
MAX_PATTERN = 512


class Goal(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One goal: `event` (optionally with one property value), `page` (a path pattern) or `lead`
    (optionally from one form source); for one project, or all (None)."""

    name: str
    kind: GoalKind
    project: str | None = None
    event: str | None = None
    prop_key: str | None = None
    prop_value: str | None = None
    page: str | None = None
    form: str | None = None

    def describe(self) -> str:
        """For people: `event Signup (plan=pro)`, `page /thank-you*`, `lead (form contact)`."""
        if self.kind == "event":
            extra = f" ({self.prop_key}={self.prop_value})" if self.prop_key is not None else ""
            return f"event {self.event}{extra}"
        if self.kind == "page":
            return f"page {self.page}"
        return f"lead (form {self.form})" if self.form else "lead"


_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
_PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # as a report's prop:KEY


def goal(
    name: str,
    *,
    event: str | None = None,
    prop: str | None = None,
    page: str | None = None,
    lead: bool = False,
    form: str | None = None,
    project: str | None = None,
) -> Goal:
    """A checked Goal from the options of `goals add`, or InvalidInput naming the option at fault."""
    name = check_name(name)
    chosen = [option for option, given in (("--event", event), ("--page", page), ("--lead", lead)) if given]
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of --event NAME, --page PATTERN or --lead (got "
                           f"{' and '.join(chosen) or 'none'})")  # fmt: skip
    if prop is not None and event is None:
        raise InvalidInput("--prop: only with --event (a custom event's property)")
    if form is not None and not lead:
        raise InvalidInput("--form: only with --lead (the form a lead came from)")
    if event is not None:
        event = event.strip()
        if not event or len(event) > 120:
            raise InvalidInput(f"--event: a custom event's name, 1-120 characters (got {event!r})")
        prop_key = prop_value = None
        if prop is not None:
            prop_key, sep, prop_value = prop.partition("=")
            if not sep or not _PROPERTY_KEY.match(prop_key) or not prop_value:
                raise InvalidInput(
                    f"--prop: write KEY=VALUE, the key 1-64 letters, digits, _ . - (got {prop!r})"
                )
        return Goal(
            name=name, kind="event", project=project, event=event, prop_key=prop_key, prop_value=prop_value
        )
    if page is not None:
        if not page.startswith("/") or len(page) > MAX_PATTERN:
            raise InvalidInput(f"--page: a path pattern starting with /, * for any characters (got {page!r})")
        return Goal(name=name, kind="page", project=project, page=page)
    if form is not None and not form.strip():
        raise InvalidInput("--form: the form's source name, not empty")
    return Goal(name=name, kind="lead", project=project, form=form)


class GoalOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A goal as a person declares it: the options of `goals add`, or a `[[goals]]` table of the
    config file (the same names in both)."""

    name: str
    event: str | None = None
    prop: str | None = None  # KEY=VALUE, with event
    page: str | None = None
    lead: bool = False
    form: str | None = None  # with lead
    project: str | None = None

    def goal(self) -> Goal:
        """The checked goal (InvalidInput names the option at fault)."""
        project = check_project(self.project, "--project") if self.project is not None else None
        return goal(self.name, event=self.event, prop=self.prop, page=self.page, lead=self.lead,
                    form=self.form, project=project)  # fmt: skip


def check_name(name: str) -> str:
    """A goal's (or saved funnel's) name, stripped, or InvalidInput."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(f"NAME: 1-{MAX_NAME} characters, no control characters (got {name!r})")
    return name


def page_regex(pattern: str) -> str:
    """The full-match regular expression of a page pattern: `*` any characters, the rest literal."""
    return ".*".join(re.escape(part) for part in pattern.split("*"))


def page_matches(pattern: str, path: str) -> bool:
    """Whether `path` matches the page pattern `pattern`."""
    return re.fullmatch(page_regex(pattern), path, re.S) is not None
