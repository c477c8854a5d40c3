"""Property tests (hypothesis) for the pure functions hostile input reaches: they either answer
within their contract or refuse with InvalidInput, and never raise anything else."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from pulsegate.domain.client_ip import DEFAULT_TRUSTED_PROXIES, client_ip, parse_networks
from pulsegate.domain.csv_safety import csv_safe
from pulsegate.domain.engagement import SessionActivity, engagement_score
from pulsegate.domain.leads import LeadSubmission, check_submission, spam_reason
from pulsegate.domain.periods import resolve_paging, resolve_window
from pulsegate.domain.sources import host_of, path_of, traffic_source, utm_from_url
from pulsegate.domain.tracking import EVENT_TYPES
from pulsegate.domain.user_agents import classify_user_agent
from pulsegate.errors import InvalidInput

NOW = 1_795_000_000_000
TRUSTED = parse_networks(DEFAULT_TRUSTED_PROXIES)
texts = st.text(max_size=300)
maybe_text = st.none() | texts
urlish = st.one_of(texts, st.builds(lambda host, path: f"https://{host}/{path}", texts, texts))


@given(peer=st.one_of(texts, st.ip_addresses().map(str)), forwarded=maybe_text, cf=maybe_text)
def test_client_ip_is_an_address_or_the_peer_as_given(
    peer: str, forwarded: str | None, cf: str | None
) -> None:
    answer = client_ip(peer, forwarded_for=forwarded, cf_connecting_ip=cf, trusted_proxies=TRUSTED)
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        assert answer == peer  # not an address: never replaced by a header
        return
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:a.b.c.d is a.b.c.d
    if not any(address in network for network in TRUSTED):
        assert answer == str(address)  # an untrusted peer is the client, whatever the headers say
    else:
        ipaddress.ip_address(answer)  # a trusted proxy's forwarded address is a real address


@given(url=st.one_of(st.none(), urlish), referrer=st.one_of(st.none(), urlish), utm=maybe_text)
def test_sources_and_paths_never_fail(url: str | None, referrer: str | None, utm: str | None) -> None:
    source = traffic_source(url, referrer, utm)
    assert isinstance(source, str) and source
    path = path_of(url)
    assert path is None or path.startswith("/")
    host = host_of(url)
    assert host is None or isinstance(host, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in utm_from_url(url).items())


@given(st.text(max_size=2000))
@settings(max_examples=300, deadline=None)  # a classification, not a timing: a busy machine must not fail it
def test_any_user_agent_is_classified(user_agent: str) -> None:
    software = classify_user_agent(user_agent)
    assert software.device in ("desktop", "mobile", "tablet", "bot", "unknown")


@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(EVENT_TYPES),
            st.one_of(
                st.none(),
                st.dictionaries(
                    st.sampled_from(["depth", "engaged_ms", "x"]),
                    st.one_of(st.integers(), st.floats(allow_nan=True), texts, st.booleans(), st.none()),
                ),
            ),
        ),
        max_size=60,
    )
)
def test_the_score_is_always_0_to_100(events: list) -> None:
    activity = SessionActivity()
    for kind, props in events:
        activity.record(kind, "https://e.com/", props)
    assert 0 <= engagement_score(activity) <= 100
    assert 0 <= activity.max_scroll <= 100 and activity.engaged_ms >= 0


@given(
    params=st.dictionaries(
        st.sampled_from(["from", "to", "period", "tz", "limit", "page", "page_size"]), texts
    )
)
@settings(max_examples=300)
def test_window_and_paging_answer_or_refuse(params: dict[str, str]) -> None:
    try:
        window = resolve_window(params, NOW)
        assert window.start_ms < window.end_ms
    except InvalidInput:
        pass
    try:
        paging = resolve_paging(params)
        assert paging.limit >= 1 and paging.page >= 1
    except InvalidInput:
        pass


@given(email=maybe_text, phone=maybe_text, name=maybe_text, website=maybe_text,
       elapsed=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)))  # fmt: skip
def test_lead_checks_answer_or_refuse(email: str | None, phone: str | None, name: str | None,
                                      website: str | None, elapsed: int | None) -> None:  # fmt: skip
    submission = LeadSubmission(submission_id="abcdefgh", email=email, phone=phone, name=name, website=website,
                                elapsed_ms=elapsed)  # fmt: skip
    try:
        checked = check_submission(submission)
    except InvalidInput as refused:
        assert refused.message.split(":")[0] in ("email", "phone")
        return
    assert checked.email or checked.phone
    assert spam_reason(checked, min_fill_ms=2000) in (None, "honeypot", "too fast")


@given(st.one_of(texts, st.integers(), st.floats(), st.none(), st.booleans()))
def test_csv_cells_never_start_a_formula(value: object) -> None:
    cell = csv_safe(value)
    assert isinstance(cell, str)
    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or cell.startswith("'")
