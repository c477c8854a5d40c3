"""Finding the files PulseGate ships: inside the installed wheel, or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_file(name: str) -> Path:
    """Path of a shipped file or folder (`config.example.toml`, `web_assets`).

    The wheel force-includes them into the package; an editable install or a checkout has
    them at the repository root, one level up.
    """
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"PulseGate's {name} is missing from this installation")
