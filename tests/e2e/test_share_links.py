"""Share links in real Chromium against a real server on a seeded database (two projects, leads).

The share page is compared with what the API (with a key) answers for the link's project; every
response the page received is recorded, and neither another project's data nor any lead's name,
email, phone, company or message may be in one. Links are made with the real CLI, live through the
running server's control socket, and revoked the same way.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import httpx
import pytest

from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops import shares
from pulsegate.ops.context import OpContext
from pulsegate.store.migrations import migrate
from tests.e2e.browser import DESKTOP_CHROME
from tests.e2e.running_server import RunningServer, free_port, pulsegate_command
from tests.helpers import cli, cli_output, wait_for

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
PROJECT, OTHER = "acme", "acme-docs"


class Seeded:
    """The server, a key for the API, and the share links made before it started."""

    def __init__(self, server: RunningServer, key: str, expired_path: str) -> None:
        self.server = server
        self.key = key
        self.expired_path = expired_path

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.server.base_url + path, headers={"X-API-Key": self.key}, params=params, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    def share(self, *args: str, password: str | None = None) -> dict[str, Any]:
        """`pulsegate share create --json` with `args` (and `password` on stdin); its answer."""
        if password is None:
            return json.loads(cli_output("share", "create", *args, "--json", database=self.server.database))
        command = pulsegate_command("share", "create", *args, "--password-stdin", "--json",
                                    "--database", str(self.server.database))  # fmt: skip
        done = subprocess.run(command, input=password + "\n", capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def url(self, created: dict[str, Any], suffix: str = "") -> str:
        """The link on this server (the CLI prints the configured host and port)."""
        return self.server.base_url + urlsplit(created["url"]).path + suffix


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("shares")
    database = folder / "demo.duckdb"
    cli_output("demo", "seed", "--sessions", "1500", "--days", "30", "--seed", "4", database=database)
    key = cli_output("keys", "create", "dashboard", "--quiet", database=database).strip()
    expired_path = _expired_link(database)
    server = RunningServer(database, folder).start()
    yield Seeded(server, key, expired_path)
    server.stop()


def _expired_link(database: Path) -> str:
    """A link that expired an hour ago, made offline (--expires cannot reach into the past)."""
    connection = duckdb.connect(str(database))
    try:
        migrate(connection)
        created = shares.create_share(
            OpContext(connection), shares.CreateShare(project=PROJECT, expires="1d")
        )
        past = utc_datetime(now_ms() - 3_600_000)
        connection.execute(
            "UPDATE share_links SET expires_at = ? WHERE share_id = ?", [past, created.share.share_id]
        )
    finally:
        connection.close()
    return created.path


def open_share(chromium: Any, url: str, *, wait: bool = True, **context: Any) -> Any:
    """A page on `url` in a fresh profile, recording every response's URL, status and body."""
    browser_context = chromium.new_context(
        timezone_id="UTC", locale="en-US", user_agent=DESKTOP_CHROME, **context
    )
    page = browser_context.new_page()
    page.problems = []
    page.bodies = []  # (url, status, text)
    page.on("pageerror", lambda error: page.problems.append(str(error)))

    def record(response: Any) -> None:
        try:
            text = response.text()
        except Exception:  # a redirect or an aborted response has no body to read: nothing to check
            text = ""
        page.bodies.append((response.url, response.status, text))

    page.on("response", record)
    page.document = page.goto(url)  # the page's own response
    if wait:
        page.wait_for_selector("body[data-loaded=true]")
    return page


def texts(page: Any, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def lead_contacts(seeded: Seeded) -> set[str]:
    """Every lead's name, email, phone, company and message, from the API (all projects)."""
    found: set[str] = set()
    page = 1
    while True:
        listed = seeded.api("/analytics/leads", period="12mo", limit=100, page=page)
        for lead in listed["leads"]:
            found |= {lead[field] for field in ("name", "email", "phone", "company") if lead.get(field)}
            detail = seeded.api(f"/analytics/leads/{lead['lead_id']}")
            if detail.get("message"):
                found.add(detail["message"])
        if page * 100 >= listed["total"]:
            break
        page += 1
    return found


def test_a_share_link_shows_its_project_s_numbers_and_nothing_else(chromium: Any, seeded: Seeded) -> None:
    created = seeded.share("--project", PROJECT, "--name", "board")
    page = open_share(chromium, seeded.url(created))
    window = {"period": "30d", "tz": "UTC", "project": PROJECT}

    current = seeded.api("/analytics/overview", **window)["current"]
    everything = seeded.api("/analytics/overview", period="30d", tz="UTC")["current"]
    assert current["sessions"] < everything["sessions"]  # the other project has traffic of its own
    for metric in ("sessions", "visitors", "page_views", "leads"):
        assert page.text_content(f"[data-metric={metric}] .value") == f"{current[metric]:,}", metric
    top = seeded.api("/analytics/pages/top", **window, limit=10)["pages"]
    assert texts(page, "#pages tbody td.name") == [p["path"] for p in top]
    assert texts(page, "#pages tbody td.num") == [f"{p['views']:,}" for p in top]
    sources = seeded.api("/analytics/sources", **window, limit=10)["sources"]
    assert texts(page, "#sources tbody td.num") == [f"{s['sessions']:,}" for s in sources]
    goals = seeded.api("/analytics/goals", **window, compare="previous")["goals"]
    assert page.locator("#goals tbody tr").count() == len(goals)
    assert page.text_content(".topbar h1") == PROJECT

    # Read-only: no key, no project picker, no leads list, no storage; the panels that count leads stay.
    for hidden in ("#sign-in", "#sign-out", "#project", "#leads-panel", "#storage"):
        assert not page.is_visible(hidden), hidden
    assert page.is_visible("#attribution-panel") and page.is_visible("#forms-panel")

    # What the page fetched: its own files and its link's API, never /analytics/* with a key.
    token_path = urlsplit(seeded.url(created)).path
    fetched = [urlsplit(url).path for url, _, _ in page.bodies]
    assert any(path.startswith(token_path + "/api/analytics/") for path in fetched)
    assert all(
        path == token_path or path.startswith((token_path + "/api/", "/dashboard/")) for path in fetched
    )
    assert all(status == 200 for _, status, _ in page.bodies), [(u, s) for u, s, _ in page.bodies if s != 200]

    # The other project: its name and its own pages appear nowhere.
    mine = {
        row["value"]
        for row in seeded.api("/analytics/breakdown", **window, dimension="page", limit=100)["rows"]
    }
    theirs = {
        row["value"]
        for row in seeded.api(
            "/analytics/breakdown", period="30d", project=OTHER, dimension="page", limit=100
        )["rows"]
    } - mine
    assert theirs  # else the check below would prove nothing
    seen = [body for _, _, body in page.bodies] + [page.content()]
    for text in seen:
        assert f'"{OTHER}"' not in text and f">{OTHER}<" not in text
        for path in theirs:
            assert f'"{path}"' not in text and f">{path}<" not in text, path

    # No lead's contact details anywhere: not in the HTML, not in any answer the page used.
    contacts = lead_contacts(seeded)
    assert len(contacts) > 20
    for text in seen:
        leaked = [value for value in contacts if value in text]
        assert leaked == [], leaked[:5]

    # The link's API refuses what a share view has no business with.
    base = seeded.url(created, "/api/analytics")
    for path in ("/leads", "/leads/sources", "/storage", f"/overview?project={OTHER}"):
        assert httpx.get(base + path, timeout=10).status_code == 404, path
    assert page.problems == []
    page.context.close()


def test_filters_and_periods_work_on_a_share_link(chromium: Any, seeded: Seeded) -> None:
    created = seeded.share("--project", PROJECT)
    page = open_share(chromium, seeded.url(created))
    with page.expect_response(lambda response: "/overview?" in response.url and "period=7d" in response.url):
        page.select_option("#period", "7d")
    seven = seeded.api("/analytics/overview", period="7d", tz="UTC", project=PROJECT)["current"]
    wait_for(
        lambda: page.text_content("[data-metric=sessions] .value") == f"{seven['sessions']:,}", page=page
    )

    page.click("#countries tbody button >> nth=0")  # a row filters the whole view
    wait_for(lambda: page.locator("#chips .chip").count() == 1, page=page)
    chip = page.get_attribute("#chips .chip", "data-filter")
    filtered = seeded.api("/analytics/overview", period="7d", tz="UTC", project=PROJECT, filter=chip)[
        "current"
    ]
    wait_for(
        lambda: page.text_content("[data-metric=sessions] .value") == f"{filtered['sessions']:,}", page=page
    )
    assert "period=7d" in page.url and "filter=" in page.url
    assert page.problems == []
    page.context.close()


def test_revoked_and_expired_links_stop_working(chromium: Any, seeded: Seeded) -> None:
    created = seeded.share("--project", PROJECT)
    page = open_share(chromium, seeded.url(created))
    overview = seeded.url(created, "/api/analytics/overview")
    assert httpx.get(overview, timeout=10).status_code == 200

    done = cli("share", "revoke", created["share_id"], database=seeded.server.database)
    assert done.returncode == 0 and "Revoked" in done.stdout, done.stderr
    # At once, through the running server: its API, the open page's next load, and the page.
    gone = httpx.get(overview, timeout=10)
    assert gone.status_code == 404
    assert gone.json() == {"error": "Share link not found: it may have been revoked or have expired"}
    page.select_option("#period", "7d")
    page.wait_for_selector("#share-gone")
    assert not page.is_visible("#board")
    again = page.goto(seeded.url(created))
    assert again is not None and again.status == 404
    assert "This link does not work" in page.text_content("main")
    assert PROJECT not in page.content()
    page.context.close()

    # Expired an hour ago: the same 404 as a link that never existed.
    for path in (seeded.expired_path, "/share/" + "A" * 43):
        expired = open_share(chromium, seeded.server.base_url + path, wait=False)
        assert expired.document.status == 404, path
        assert "This link does not work" in expired.text_content("main")
        expired.context.close()
        assert (
            httpx.get(seeded.server.base_url + path + "/api/analytics/overview", timeout=10).status_code
            == 404
        )
    listed = json.loads(cli_output("share", "list", "--json", database=seeded.server.database))
    states = {link["share_id"]: link["state"] for link in listed}
    assert states[created["share_id"]] == "revoked" and "expired" in states.values()


def test_a_password_link_asks_for_it_and_remembers_it_in_a_strict_cookie(
    chromium: Any, seeded: Seeded
) -> None:
    created = seeded.share("--project", PROJECT, password=PASSWORD)
    assert created["password"] is True
    url = seeded.url(created)
    assert httpx.get(url + "/api/analytics/overview", timeout=10).status_code == 401

    page = open_share(chromium, url, wait=False)
    assert page.is_visible("#password") and not page.locator("#cards").count()
    assert PROJECT not in page.content()  # the form says nothing of what is behind it
    page.fill("#password", "not the password")
    with page.expect_navigation() as wrong:
        page.click("#share-password button")
    assert wrong.value is not None and wrong.value.status == 401
    assert page.text_content("#password-error") == "That password is not right."
    assert page.context.cookies() == []

    page.fill("#password", PASSWORD)
    page.click("#share-password button")
    page.wait_for_selector("body[data-loaded=true]")
    current = seeded.api("/analytics/overview", period="30d", tz="UTC", project=PROJECT)["current"]
    assert page.text_content("[data-metric=sessions] .value") == f"{current['sessions']:,}"
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP here; Secure behind HTTPS is checked below
    assert cookie["path"] == urlsplit(url).path
    assert page.evaluate("document.cookie") == ""  # no script can read it
    assert page.problems == []
    page.context.close()

    # Behind a TLS-terminating proxy (loopback is trusted), the cookie is Secure.
    behind_tls = httpx.post(
        url, data={"password": PASSWORD}, headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    assert behind_tls.status_code == 303
    flags = [part.strip().lower() for part in behind_tls.headers["set-cookie"].split(";")]
    assert {"httponly", "secure", "samesite=strict"} <= set(flags)


def test_password_tries_are_limited_per_address(seeded: Seeded) -> None:
    created = seeded.share("--project", PROJECT, password=PASSWORD)
    url = seeded.url(created)
    # Loopback is a trusted proxy: X-Forwarded-For names the client, so this test has addresses of its own.
    attacker, bystander = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "203.0.113.8"}
    statuses = [httpx.post(url, data={"password": f"guess {n}"}, headers=attacker, timeout=10).status_code
                for n in range(7)]  # fmt: skip
    assert statuses == [401] * 5 + [429] * 2
    refused = httpx.post(url, data={"password": PASSWORD}, headers=attacker, timeout=10)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "set-cookie" not in refused.headers  # even the right password waits
    assert httpx.post(url, data={"password": PASSWORD}, headers=bystander, timeout=10).status_code == 303


class _Parent(BaseHTTPRequestHandler):
    """A page on another origin that frames `?src=`."""

    def do_GET(self) -> None:
        src = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
        body = f'<!doctype html><title>wiki</title><iframe id="embedded" src="{src}" width="1000" height="800"></iframe>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def parent_port() -> Iterator[int]:
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _Parent)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield port
    httpd.shutdown()


def _framed(chromium: Any, parent: str, src: str) -> tuple[Any, Any, list[str]]:
    """The parent page, its frame, and the console's messages, once the frame has loaded or been refused."""
    context = chromium.new_context(user_agent=DESKTOP_CHROME)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(f"{parent}/?src={src}")
    page.wait_for_selector("#embedded")
    frame = wait_for(lambda: page.frames[1] if len(page.frames) > 1 else None, page=page, what="the frame")
    return page, frame, messages


def test_embeds_only_where_the_link_allows(chromium: Any, seeded: Seeded, parent_port: int) -> None:
    allowed_origin = f"http://127.0.0.1:{parent_port}"
    created = seeded.share("--project", PROJECT, "--embed-origin", allowed_origin)
    embed = seeded.url(created, "?embed=1")

    # The allowed origin frames the embed view: the dashboard, without its title bar.
    page, frame, _ = _framed(chromium, allowed_origin, embed)
    frame.wait_for_selector("body[data-loaded=true]")
    current = seeded.api("/analytics/overview", period="30d", tz="UTC", project=PROJECT)["current"]
    assert frame.text_content("[data-metric=sessions] .value") == f"{current['sessions']:,}"
    assert "embed" in frame.get_attribute("body", "class") and not frame.is_visible(".topbar h1")
    assert frame.is_visible("#period")  # periods and filters stay
    page.context.close()
    headers = httpx.get(embed, timeout=10).headers
    assert headers["content-security-policy"].endswith(f"frame-ancestors {allowed_origin}")
    assert "x-frame-options" not in headers

    # Refused: another origin, the same link without ?embed=1, and a link made without --embed-origin.
    plain = seeded.share("--project", PROJECT)
    refusals = [
        (f"http://localhost:{parent_port}", embed),
        (allowed_origin, seeded.url(created)),
        (allowed_origin, seeded.url(plain, "?embed=1")),
    ]
    for parent, src in refusals:
        page, frame, messages = _framed(chromium, parent, src)
        refused = lambda said=messages: any("frame-ancestors" in m or "X-Frame-Options" in m for m in said)  # noqa: E731
        wait_for(refused, page=page, what=f"the browser refusing to frame {src} in {parent}")
        assert frame.locator("#cards").count() == 0, (parent, src)
        page.context.close()
    assert (
        "frame-ancestors 'none'"
        in httpx.get(seeded.url(plain, "?embed=1"), timeout=10).headers["content-security-policy"]
    )
