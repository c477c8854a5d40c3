"""The server's registered projects: which pages may send data, and how much it refused."""

from __future__ import annotations

from collections import Counter

from pulsegate.domain.projects import Registry
from pulsegate.errors import Forbidden
from pulsegate.store.database import Database
from pulsegate.store.projects import project_rows


def load_registry(database: Database) -> Registry:
    """The registry as stored now (read on the calling thread: start-up and reloads)."""
    return Registry({name: tuple(domains) for name, domains, _ in database.read_now(project_rows)})


class ProjectGate:
    """Admits tracking and capture requests by their pages; counts what it refused."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.registry = Registry({})
        self.refused: Counter[str] = Counter()  # by the project named (or "" for none), since start

    async def reload(self) -> None:
        """Read the projects as stored now; a change applies from the next request."""
        self.registry = Registry(
            {name: tuple(domains) for name, domains, _ in await self._database.read(project_rows)}
        )

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
