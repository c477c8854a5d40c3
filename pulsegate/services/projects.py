"""The server's registered projects: which pages may send data, and how much it refused."""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

import msgspec

from pulsegate.domain.leads import LeadSubmission
from pulsegate.domain.projects import Registry
from pulsegate.domain.tracking import SessionStart
from pulsegate.errors import Forbidden
from pulsegate.store.database import Database
from pulsegate.store.projects import project_domains

Payload = TypeVar("Payload", SessionStart, LeadSubmission)  # what names a project, with its page


class ProjectGate:
    """Admits tracking and capture requests by their pages; counts what it refused."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.registry = Registry({})
        self.refused: Counter[str] = Counter()  # by the project named (or "" for none), since start

    async def reload(self) -> None:
        """Read the projects as stored now; a change applies from the next request."""
        self.registry = Registry(await self._database.read(project_domains))

    @property
    def is_open(self) -> bool:
        """No project is registered: every page's data is taken (and nothing needs checking)."""
        return self.registry.is_open

    @property
    def refused_total(self) -> int:
        """Requests refused since the server started."""
        return sum(self.refused.values())

    def admit(self, project: str | None, page_url: str | None, origin: str | None) -> str | None:
        """The project the data belongs to; Forbidden (counted) when the page is not its."""
        try:
            return self.registry.admit(project, page_url, origin)
        except Forbidden:
            self.refused[project or ""] += 1
            raise

    def admitted(self, payload: Payload, page_url: str | None, origin: str | None) -> Payload:
        """`payload` as admitted: its project named by its page's domain when it named none."""
        project = self.admit(payload.project, page_url, origin)
        return payload if project == payload.project else msgspec.structs.replace(payload, project=project)
