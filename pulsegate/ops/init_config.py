"""`pulsegate init`: write a commented config file with freshly generated secrets."""

from __future__ import annotations

import json
import os
import pwd
import secrets
from pathlib import Path

from pulsegate.errors import ConfigError
from pulsegate.resources import shipped_file

SALT_LINE = 'visitor_salt = ""'
SIGNING_LINE = 'signing_secret = ""'
CALLBACK_LINE = 'callback_secret = ""'
DATABASE_LINE = 'database = "pulsegate-data/pulsegate.duckdb"'


def render_config(*, visitor_salt: str, database: str | None = None) -> str:
    """config.example.toml with the secrets filled in (and the database, if given)."""
    template = shipped_file("config.example.toml").read_text("utf-8")
    if any(line not in template for line in (SALT_LINE, DATABASE_LINE, SIGNING_LINE, CALLBACK_LINE)):
        raise ConfigError("config.example.toml has lost the lines `pulsegate init` fills in")
    text = template.replace(SALT_LINE, f"visitor_salt = {json.dumps(visitor_salt)}")
    text = text.replace(SIGNING_LINE, f"signing_secret = {json.dumps(secrets.token_urlsafe(32))}")
    text = text.replace(CALLBACK_LINE, f"callback_secret = {json.dumps(secrets.token_urlsafe(32))}")
    if database is not None:
        text = text.replace(DATABASE_LINE, f"database = {json.dumps(database)}")
    return text


def write_config(
    path: Path, *, database: str | None = None, force: bool = False, owner: str | None = None
) -> Path:
    """Write a new config file at `path` (mode 0600: it holds secrets) and return its path;
    `owner` (a user name) gets the file, so root can write it for a service user."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    account = _account(owner) if owner is not None else None
    text = render_config(visitor_salt=secrets.token_hex(32), database=database)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # also when --force overwrote a file created with looser permissions
    if account is not None:
        try:
            os.chown(path, account.pw_uid, account.pw_gid)
        except PermissionError:
            raise ConfigError(f"--owner: only root may give {path} to {owner}; run init as root") from None
    return path


def readable_only_by_root(path: Path) -> bool:
    """True when a config was written by root for root alone (a service user could not read it)."""
    details = path.stat()
    return details.st_uid == 0 and not details.st_mode & 0o077


def _account(owner: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(owner)
    except KeyError:
        raise ConfigError(f"--owner: there is no user named {owner!r}") from None
