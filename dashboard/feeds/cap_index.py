"""Atom feeds and RSS 2.0 channels that index CAP alerts.

An index entry either carries its alert inline (an Atom <content type="text/xml"> holding a CAP
<alert>), which is parsed here with parse_cap, or points at it, which becomes a Link(url, "cap")
for the runner to fetch and parse in turn. Only absolute http(s) links are passed on: an index
from outside must not make the runner read local files or speak other protocols.
"""

from __future__ import annotations

import copy
import dataclasses
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, tostring

from dashboard.feeds.base import FeedDefaults, FeedFormatError, Link, Parsed, Refused
from dashboard.feeds.cap import ALERT_TAGS, parse_cap
from dashboard.feeds.xml import parse_xml

ATOM = "{http://www.w3.org/2005/Atom}"
CAP_MEDIA_TYPE = "application/cap+xml"


def parse_cap_index(data: bytes, defaults: FeedDefaults) -> Parsed:
    """Parse an Atom or RSS index of CAP alerts: inline alerts as records, the others as links.

    Refused items carry the index of their entry in the feed.
    """
    parsed = Parsed()
    for index, entry in enumerate(_entries(parse_xml(data))):
        parsed.extend(_entry(index, entry, defaults))
    return parsed


def _entries(root: Element) -> list[Element]:
    """The entries of an Atom feed or the items of an RSS channel; FeedFormatError otherwise."""
    if root.tag == f"{ATOM}feed":
        return root.findall(f"{ATOM}entry")
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedFormatError("not an RSS 2.0 channel: <rss> has no <channel>")
        return channel.findall("item")
    raise FeedFormatError(
        f"not an Atom feed or an RSS 2.0 channel: the root element is <{root.tag}>")


def _entry(index: int, entry: Element, defaults: FeedDefaults) -> Parsed:
    alerts = [element for element in entry.iter() if element.tag in ALERT_TAGS]
    if alerts:
        return _inline(index, alerts, defaults)
    item_id = _item_id(entry)
    url = _link(entry)
    if url is None:
        return Parsed(refused=[Refused(index, item_id,
                                       "entry has neither an embedded CAP <alert> nor a link")])
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return Parsed(refused=[Refused(index, item_id,
                                       f"link {url!r} is not an absolute http(s) URL")])
    return Parsed(links=[Link(url, "cap")])


def _inline(index: int, alerts: list[Element], defaults: FeedDefaults) -> Parsed:
    """Parse each embedded alert as a document of its own; refusals point at this entry."""
    parsed = Parsed()
    for alert in alerts:
        parsed.extend(parse_cap(_document(alert), defaults))
    parsed.refused = [dataclasses.replace(refused, index=index) for refused in parsed.refused]
    return parsed


def _document(alert: Element) -> bytes:
    """An embedded alert as a document of its own, without the feed text that follows it."""
    alone = copy.copy(alert)
    alone.tail = None
    return tostring(alone, encoding="utf-8")


def _item_id(entry: Element) -> str | None:
    """What names the entry in a refusal: Atom <id>, RSS <guid>, else its title."""
    for tag in (f"{ATOM}id", "guid", f"{ATOM}title", "title"):
        text = (entry.findtext(tag) or "").strip()
        if text:
            return text
    return None


def _link(entry: Element) -> str | None:
    """The URL of the entry's alert: one typed application/cap+xml first, else its main link."""
    candidates = _atom_links(entry) if entry.tag == f"{ATOM}entry" else _rss_links(entry)
    typed = [url for url, media_type in candidates if _is_cap(media_type)]
    urls = typed or [url for url, _ in candidates]
    return urls[0] if urls else None


def _atom_links(entry: Element) -> list[tuple[str, str]]:
    """(url, media type): out-of-line <content src>, the alternate links, links typed as CAP."""
    found = []
    content = entry.find(f"{ATOM}content")
    if content is not None and content.get("src"):
        found.append((content.get("src", "").strip(), content.get("type", "")))
    for link in entry.findall(f"{ATOM}link"):
        media_type = link.get("type", "")
        if link.get("href") and (link.get("rel", "alternate") == "alternate"
                                 or _is_cap(media_type)):
            found.append((link.get("href", "").strip(), media_type))
    return found


def _rss_links(item: Element) -> list[tuple[str, str]]:
    """(url, media type): the item's enclosures, then its <link>."""
    found = [(enclosure.get("url", "").strip(), enclosure.get("type", ""))
             for enclosure in item.findall("enclosure") if enclosure.get("url")]
    link = (item.findtext("link") or "").strip()
    if link:
        found.append((link, ""))
    return found


def _is_cap(media_type: str) -> bool:
    return media_type.split(";")[0].strip().lower() == CAP_MEDIA_TYPE
