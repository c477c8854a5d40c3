"""Traffic sources: UTM first, then the referrer's group, self-referrals and no referrer as Direct."""

from __future__ import annotations

import pytest

from pulsegate.domain.sources import group_referrer_host, host_of, traffic_source, utm_from_url

PAGE = "https://shop.example.com/pricing"


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.google.com/search?q=x", "Google"),
        ("https://www.google.co.uk/", "Google"),
        ("https://google.de/", "Google"),
        ("https://www.bing.com/search?q=x", "Bing"),
        ("https://t.co/abc123", "X"),
        ("https://twitter.com/someone", "X"),
        ("https://x.com/someone/status/1", "X"),
        ("https://m.facebook.com/", "Facebook"),
        ("https://l.facebook.com/l.php?u=x", "Facebook"),
        ("https://www.instagram.com/", "Instagram"),
        ("https://www.linkedin.com/feed/", "LinkedIn"),
        ("https://lnkd.in/abc", "LinkedIn"),
        ("https://news.ycombinator.com/item?id=1", "Hacker News"),
        ("https://old.reddit.com/r/selfhosted", "Reddit"),
        ("https://duckduckgo.com/", "DuckDuckGo"),
        ("https://chatgpt.com/", "AI assistants"),
        ("https://chat.openai.com/", "AI assistants"),
        ("https://www.perplexity.ai/search", "AI assistants"),
        ("https://gemini.google.com/app", "AI assistants"),
        ("https://blog.other.org/post", "blog.other.org"),
        ("https://WWW.Other.ORG/", "other.org"),
    ],
)
def test_referrer_groups(referrer: str, source: str) -> None:
    assert traffic_source(PAGE, referrer, None) == source


def test_no_referrer_is_direct() -> None:
    assert traffic_source(PAGE, None, None) == "Direct"
    assert traffic_source(PAGE, "", None) == "Direct"
    assert traffic_source(PAGE, "not a url", None) == "Direct"


def test_self_referral_is_direct() -> None:
    assert traffic_source(PAGE, "https://shop.example.com/", None) == "Direct"
    assert traffic_source(PAGE, "https://www.shop.example.com/blog", None) == "Direct"
    # A sibling subdomain is another site.
    assert traffic_source(PAGE, "https://blog.example.com/", None) == "blog.example.com"


def test_utm_source_wins_and_known_names_are_grouped() -> None:
    assert traffic_source(PAGE, "https://www.google.com/", "newsletter") == "newsletter"
    assert traffic_source(PAGE, None, "hn") == "Hacker News"
    assert traffic_source(PAGE, None, "Twitter") == "X"
    assert traffic_source(PAGE, None, "  ") == "Direct"


def test_host_of() -> None:
    assert host_of("https://www.Example.com:8443/x") == "example.com"
    assert host_of("https://[::1]:80/") == "::1"
    assert host_of(None) is None
    assert group_referrer_host("example.net") == "example.net"


def test_utm_from_url() -> None:
    url = "https://e.com/?utm_source=news&utm_medium=email&utm_campaign=launch&x=1&utm_term="
    assert utm_from_url(url) == {"utm_source": "news", "utm_medium": "email", "utm_campaign": "launch"}
    assert utm_from_url("https://e.com/") == {}
    assert utm_from_url(None) == {}
