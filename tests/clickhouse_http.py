"""A ClickHouse HTTP endpoint for tests: ClickHouse's own engine (chDB) behind the parts of
ClickHouse's HTTP interface that clickhouse-connect speaks.

No current ClickHouse server package exists for this machine (Debian's is from 2018), and PyPI's
chDB is the same engine in a library, so the network path (clickhouse-connect's requests, its
Native format, server-side parameters, authentication, errors) is tested against this. Run as
`python -m tests.clickhouse_http --path DIR --port N --password P`, or `serve()` in a thread.

What it implements: GET/POST / with the query in `query=` or the body (an INSERT's data after
its query), or as a multipart form's `query` field with its `param_*` fields (which
clickhouse-connect sends when the parameters are too long for a URL), `param_*` parameters, settings as URL parameters (applied with SET for that request alone),
`default_format`, Basic or X-ClickHouse-User/-Key authentication, /ping, and errors as ClickHouse
sends them (status 500 or 4xx, X-ClickHouse-Exception-Code, the message as the body).
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import re
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chdb import session as chdb_session

# URL parameters that are not settings (the HTTP interface's own).
NOT_SETTINGS = frozenset(
    {"query", "database", "query_id", "session_id", "session_timeout", "session_check", "default_format",
     "compress", "decompress", "user", "password", "quota_key", "wait_end_of_query", "buffer_size",
     "enable_http_compression", "send_progress_in_http_headers", "http_headers_progress_interval_ms",
     "client_protocol_version"}
)  # fmt: skip
FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
ERROR_CODE = re.compile(r"Code: (\d+)")


class ChdbEndpoint:
    """One chDB session, shared by every request (statements run one at a time)."""

    def __init__(self, path: str, user: str = "default", password: str = "") -> None:
        self.session = chdb_session.Session(path)
        self.user, self.password = user, password
        self.lock = threading.Lock()
        self.requests = 0

    def run(
        self, sql: str, fmt: str, database: str, settings: dict[str, str], params: dict[str, str]
    ) -> bytes:
        with self.lock:
            self.requests += 1
            self.session.query(f"USE {database}" if database else "USE default", "CSV")
            for name, value in settings.items():
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    raise ValueError(f"Code: 115. DB::Exception: Unknown setting {name}")
                self.session.query(f"SET {name} = {_literal(value)}", "CSV")
            try:
                result = self.session.query(sql, fmt, params=params or None)
            finally:
                # A server applies a request's settings to that request alone (an insert's
                # deduplication token above all): the shared session must not keep them.
                for name in settings:
                    self.session.query(f"SET {name} = DEFAULT", "CSV")
            return bytes(result.bytes()) if result is not None else b""


def _literal(value: str) -> str:
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a multipart/form-data body, by name."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_payload(decode=True).decode()
    return fields


def handler_for(endpoint: ChdbEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/ping" or (parts.path == "/" and not parts.query):
                self._answer(200, b"Ok.\n", {})
                return
            self._query(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._query(self.rfile.read(length) if length else self._chunked())

        def _chunked(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                return b""
            body = bytearray()
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()

        def _authorised(self, query: dict[str, str]) -> bool:
            user = self.headers.get("X-ClickHouse-User") or query.get("user")
            password = self.headers.get("X-ClickHouse-Key") or query.get("password") or ""
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            return (user or "default") == endpoint.user and password == endpoint.password

        def _query(self, body: bytes) -> None:
            query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            if not self._authorised(query):
                self._error(401, 516, "default: Authentication failed: password is incorrect")
                return
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                query.update(form_fields(content_type, body))
                body = b""
            if "query" in query:  # the body is an INSERT's data
                sql = query["query"] + ("\n" + body.decode() if body else "")
            else:
                sql = body.decode()
            params = {key[6:]: value for key, value in query.items() if key.startswith("param_")}
            settings = {
                key: value
                for key, value in query.items()
                if key not in NOT_SETTINGS and not key.startswith("param_")
            }
            fmt = query.get("default_format") or "TabSeparated"
            stated = FORMAT_CLAUSE.search(sql.split("\n", 1)[0]) if "INSERT" not in sql[:40].upper() else None
            if stated:
                fmt = stated.group(1)
            try:
                data = endpoint.run(sql, fmt, query.get("database", ""), settings, params)
            except Exception as exc:  # chDB's message is ClickHouse's
                message = str(exc)
                code = ERROR_CODE.search(message)
                self._error(500, int(code.group(1)) if code else 1001, message)
                return
            self._answer(200, data, {"X-ClickHouse-Format": fmt})

        def _error(self, status: int, code: int, message: str) -> None:
            body = message if message.startswith("Code:") else f"Code: {code}. DB::Exception: {message}"
            self._answer(status, body.encode() + b"\n", {"X-ClickHouse-Exception-Code": str(code)})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-ClickHouse-Server-Display-Name", "chdb-test-endpoint")
            self.send_header("X-ClickHouse-Query-Id", str(uuid.uuid4()))
            self.send_header("X-ClickHouse-Timezone", "UTC")
            self.send_header("X-ClickHouse-Summary", '{"read_rows":"0","written_rows":"0"}')
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def serve(
    path: str, port: int = 0, *, user: str = "default", password: str = "", tls_cert: str = ""
) -> ThreadingHTTPServer:
    """A started endpoint on 127.0.0.1 (port 0: any free one); `shutdown()` stops it. With
    `tls_cert` (a PEM of the key and its certificate chain) it answers HTTPS, as a server's 8443."""
    endpoint = ChdbEndpoint(path, user, password)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(endpoint))
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.endpoint = endpoint  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True, name="chdb-http").start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", required=True)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--user", default="default")
    parser.add_argument("--password", default="")
    parser.add_argument("--tls-cert", default="", help="a PEM of the key and its certificate chain: HTTPS")
    options = parser.parse_args()
    server = serve(
        options.path, options.port, user=options.user, password=options.password, tls_cert=options.tls_cert
    )
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
