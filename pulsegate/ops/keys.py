"""`pulsegate keys …`: create, list and revoke API keys (offline or inside the running server)."""

from __future__ import annotations

import msgspec

from pulsegate.domain.api_keys import SHOWN_PREFIX_CHARS, hash_secret, new_key_id, new_secret
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import api_keys as sql
from pulsegate.store.projects import project_rows


class CreateKey(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `keys create`."""

    name: str
    projects: list[str] = msgspec.field(default_factory=list)  # each checked by create_key


class RevokeKey(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `keys revoke`."""

    key_id: str


class KeyInfo(msgspec.Struct, kw_only=True):
    """A key as `keys list` shows it (never its secret)."""

    key_id: str
    name: str
    prefix: str
    projects: list[str]
    created_ms: int
    last_used_ms: int | None
    revoked_ms: int | None


class CreatedKey(msgspec.Struct, kw_only=True):
    """A new key, with its secret: the only time the secret is ever shown."""

    key: KeyInfo
    secret: str


def create_key(context: OpContext, args: CreateKey) -> CreatedKey:
    """Create a key for `args.projects` (none: every project)."""
    name = args.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("NAME: a key needs a name of 1 to 100 characters")
    registered = {name for name, _, _ in project_rows(context.connection)}
    for project in args.projects:
        check_project(project, "--project")
        if registered and project not in registered:
            raise InvalidInput(
                f"--project: {project!r} is not a registered project ({', '.join(sorted(registered))}); "
                "`pulsegate projects add` registers one"
            )
    secret = new_secret()
    key_id = new_key_id()
    projects = sorted(set(args.projects))
    created = utc_datetime(now_ms())
    connection = context.connection
    sql.insert_key(
        connection, key_id, name, secret[:SHOWN_PREFIX_CHARS], hash_secret(secret), projects, created
    )
    row = sql.key_row(connection, key_id)
    assert row is not None  # just inserted on this connection
    return CreatedKey(key=_info(row), secret=secret)


def list_keys(context: OpContext, args: NoArguments) -> list[KeyInfo]:
    """Every key, revoked ones included."""
    return [_info(row) for row in sql.key_rows(context.connection)]


class RevokedKey(msgspec.Struct, kw_only=True):
    """The key after `keys revoke`; `already` when it had been revoked before (nothing changed)."""

    key: KeyInfo
    already: bool


def revoke_key(context: OpContext, args: RevokeKey) -> RevokedKey:
    """Revoke a key at once; revoking a revoked key changes nothing and says so."""
    connection = context.connection
    before = sql.key_row(connection, args.key_id)
    if before is None:
        raise UnknownId(f"No API key with id {args.key_id}; `pulsegate keys list` shows them")
    already = _info(before).revoked_ms is not None
    if not already:
        sql.revoke_key(connection, args.key_id, utc_datetime(now_ms()))
    row = sql.key_row(connection, args.key_id)
    assert row is not None
    return RevokedKey(key=_info(row), already=already)


def _info(row: sql.KeyRow) -> KeyInfo:
    key_id, name, prefix, _hash, projects, created_at, last_used_at, revoked_at = row
    return KeyInfo(
        key_id=key_id,
        name=name,
        prefix=prefix,
        projects=list(projects),
        created_ms=epoch_ms(created_at),
        last_used_ms=epoch_ms(last_used_at) if last_used_at else None,
        revoked_ms=epoch_ms(revoked_at) if revoked_at else None,
    )


CREATE = Operation(
    "keys.create", create_key, CreateKey, CreatedKey, changes_keys=True, creates_database=True,
    on_clickhouse=True,
)  # fmt: skip
LIST = Operation("keys.list", list_keys, NoArguments, list[KeyInfo], on_clickhouse=True)
REVOKE = Operation("keys.revoke", revoke_key, RevokeKey, RevokedKey, changes_keys=True, on_clickhouse=True)
