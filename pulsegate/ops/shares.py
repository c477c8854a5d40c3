"""`pulsegate share …`: create, list and revoke share links (offline or inside the running server).

The CLI hashes a link's password itself (`domain/shares.hash_password`), so the password never
crosses the control socket and scrypt's 50 ms never run on the server's writer thread.
"""

from __future__ import annotations

import msgspec

from pulsegate.domain.shares import (
    MAX_EMBED_ORIGINS,
    ShareLink,
    check_embed_origin,
    check_name,
    check_password_hash,
    new_share_id,
    new_token,
    parse_expires,
    token_hash,
)
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import shares as sql
from pulsegate.store.projects import project_rows


class CreateShare(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `share create`."""

    project: str
    name: str = ""
    expires: str | None = None  # 30d, 12h, …; None: never
    password_hash: str | None = None  # made by domain/shares.hash_password in the CLI
    embed_origins: list[str] = msgspec.field(default_factory=list)


class RevokeShare(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `share revoke`."""

    share_id: str


class ShareInfo(msgspec.Struct, kw_only=True):
    """A link as `share list` shows it (never its token or password)."""

    share_id: str
    name: str
    project: str
    state: str  # active, expired or revoked
    password: bool
    embed_origins: list[str]
    created_ms: int
    expires_ms: int | None
    revoked_ms: int | None


class CreatedShare(msgspec.Struct, kw_only=True):
    """A new link with its token: the only time the token is ever shown."""

    share: ShareInfo
    token: str
    path: str  # /share/<token>


class RevokedShare(msgspec.Struct, kw_only=True):
    """The link after `share revoke`; `already` when it had been revoked before (nothing changed)."""

    share: ShareInfo
    already: bool


def create_share(context: OpContext, args: CreateShare) -> CreatedShare:
    """Create a link showing `args.project`."""
    project = check_project(args.project, "--project")
    registered = {name for name, _, _ in project_rows(context.connection)}
    if registered and project not in registered:
        raise InvalidInput(
            f"--project: {project!r} is not a registered project ({', '.join(sorted(registered))}); "
            "`pulsegate projects add` registers one"
        )
    if len(args.embed_origins) > MAX_EMBED_ORIGINS:
        raise InvalidInput(f"--embed-origin: at most {MAX_EMBED_ORIGINS}")
    origins = tuple(dict.fromkeys(check_embed_origin(origin) for origin in args.embed_origins))
    created = now_ms()
    expires = created + parse_expires(args.expires) if args.expires is not None else None
    token = new_token()
    hashed = token_hash(token)
    assert hashed is not None  # new_token makes well-formed tokens
    link = ShareLink(
        share_id=new_share_id(),
        name=check_name(args.name),
        project=project,
        token_hash=hashed,
        password_hash=check_password_hash(args.password_hash) if args.password_hash is not None else None,
        embed_origins=origins,
        created_ms=created,
        expires_ms=expires,
        revoked_ms=None,
    )
    sql.insert_share(
        context.connection,
        link,
        utc_datetime(created),
        utc_datetime(expires) if expires is not None else None,
    )
    return CreatedShare(share=_info(link, created), token=token, path=f"/share/{token}")


def list_shares(context: OpContext, args: NoArguments) -> list[ShareInfo]:
    """Every link, revoked and expired ones included."""
    now = now_ms()
    return [_info(link, now) for link in sql.share_links(context.connection)]


def revoke_share(context: OpContext, args: RevokeShare) -> RevokedShare:
    """Revoke a link at once; revoking a revoked link changes nothing and says so."""
    connection = context.connection
    before = sql.share_link(connection, args.share_id)
    if before is None:
        raise UnknownId(f"No share link with id {args.share_id}; `pulsegate share list` shows them")
    already = before.revoked_ms is not None
    if not already:
        sql.revoke_share(connection, args.share_id, utc_datetime(now_ms()))
    after = sql.share_link(connection, args.share_id)
    assert after is not None
    return RevokedShare(share=_info(after, now_ms()), already=already)


def _info(link: ShareLink, now: int) -> ShareInfo:
    return ShareInfo(
        share_id=link.share_id,
        name=link.name,
        project=link.project,
        state=link.state(now),
        password=link.password_hash is not None,
        embed_origins=list(link.embed_origins),
        created_ms=link.created_ms,
        expires_ms=link.expires_ms,
        revoked_ms=link.revoked_ms,
    )


CREATE = Operation("shares.create", create_share, CreateShare, CreatedShare, on_clickhouse=True)
LIST = Operation("shares.list", list_shares, NoArguments, list[ShareInfo], on_clickhouse=True)
REVOKE = Operation("shares.revoke", revoke_share, RevokeShare, RevokedShare, on_clickhouse=True)
