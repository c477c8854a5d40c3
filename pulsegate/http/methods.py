"""HEAD is answered wherever a monitor may ask it: health, the scripts, the dashboard, the root.

Uptime checkers send HEAD and read a 405 as "down". These routes take GET and HEAD with one
handler; the server (Granian) sends a HEAD answer's headers without its body, and /schema lists
the GET only (`http/openapi.py` drops the HEAD twins, which would repeat the operation ids).
"""

from __future__ import annotations

from typing import Any

from litestar.enums import HttpMethod
from litestar.types import OperationIDCreator

GET_AND_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


def operation_id(name: str) -> OperationIDCreator:
    """`name` for the GET operation, `nameHead` for its HEAD twin (ids must be unique)."""

    def create(_handler: Any, method: Any, _path: Any) -> str:
        return name if method == HttpMethod.GET else f"{name}Head"

    return create
