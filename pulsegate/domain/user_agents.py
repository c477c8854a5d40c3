"""Browser, OS, device class and bot detection from the User-Agent header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

# Automation and crawlers that ua-parser's "Spider" device family does not always catch.
BOT_PATTERN = re.compile(
    # "bot" only as a word or before / ; ) - _: phone names such as "CUBOT X30" are people.
    r"\bbot\b|bot[/;)_-]|_bot|crawl|spider|slurp|scrape|headless|phantomjs|puppeteer|playwright|selenium|"
    r"lighthouse|pagespeed|gtmetrix|pingdom|uptimerobot|uptime-kuma|statuscake|site24x7|"
    r"betteruptime|better\s+stack|newrelicpinger|datadog|checkly|"
    r"gptbot|chatgpt-user|oai-searchbot|claudebot|claude-web|anthropic-ai|perplexitybot|"
    r"ccbot|bytespider|amazonbot|applebot|google-extended|meta-externalagent|diffbot|"
    r"facebookexternalhit|embedly|slackbot|discordbot|whatsapp|telegrambot|"
    r"python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java/|libwww|wget|curl/|"
    r"node-fetch|axios/|postmanruntime|insomnia",
    re.IGNORECASE,
)
TABLET_PATTERN = re.compile(r"ipad|tablet|kindle|silk/|playbook|sm-t\d|nexus\s(7|9|10)", re.IGNORECASE)
MOBILE_PATTERN = re.compile(
    r"mobi|iphone|ipod|android.+mobile|windows phone|blackberry|opera mini", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ClientSoftware:
    """What a user agent says about the software and device behind it."""

    browser: str | None
    os: str | None
    device: str  # desktop, mobile, tablet, bot or unknown
    is_bot: bool


@lru_cache(maxsize=4096)  # user agents repeat heavily; the cache keeps parsing off the hot path
def classify_user_agent(user_agent: str) -> ClientSoftware:
    """Classify a User-Agent string; an empty one is a bot (every real browser sends one)."""
    if not user_agent.strip():
        return ClientSoftware(None, None, "bot", True)
    parsed = parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    os_family = parsed.os.family if parsed.os else None
    spider = parsed.device is not None and parsed.device.family == "Spider"
    is_bot = spider or bool(BOT_PATTERN.search(user_agent))
    if is_bot:
        device = "bot"
    elif TABLET_PATTERN.search(user_agent) or (os_family == "Android" and "mobile" not in user_agent.lower()):
        device = "tablet"
    elif MOBILE_PATTERN.search(user_agent):
        device = "mobile"
    elif os_family in {"Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"}:
        device = "desktop"
    else:
        device = "unknown"
    return ClientSoftware(
        browser=None if browser in (None, "Other") else browser,
        os=None if os_family in (None, "Other") else os_family,
        device=device,
        is_bot=is_bot,
    )
