"""Hardened XML reading for every XML feed: the one place documents from outside are parsed.

Refused outright, before anything is read from them: DTDs (and so entity expansion, the billion
laughs, external entities pointing at local files or URLs) and XInclude. Nothing in a document
can make the parser touch the network or the disk. Schema validation (lxml) only ever sees
documents that passed here, with a parser that resolves nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_tree
from defusedxml import DefusedXmlException
from lxml import etree

from dashboard.feeds.base import FeedFormatError

XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
SCHEMAS = Path(__file__).resolve().parent / "schemas"


def parse_xml(data: bytes) -> Element:
    """The root element of a document, or FeedFormatError saying why it was refused."""
    if not data.strip():
        raise FeedFormatError("not XML: the document is empty")
    try:
        root = safe_tree.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                    forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedFormatError(f"refused: {_defused_reason(exc)}") from None
    except safe_tree.ParseError as exc:
        raise FeedFormatError(f"not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # an encoding Python does not know, and the like
        raise FeedFormatError(f"not readable XML: {exc}") from None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(
                tuple("{" + ns + "}" for ns in XINCLUDE_NAMESPACES)):
            raise FeedFormatError("refused: XInclude is not allowed in feed documents")
    return root


def _defused_reason(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "DTDForbidden":
        return "a DTD (document type declaration) is not allowed in feed documents"
    if name == "EntitiesForbidden":
        return "entity declarations are not allowed in feed documents"
    if name == "ExternalReferenceForbidden":
        return "external references are not allowed in feed documents"
    return str(exc)


@cache
def schema(name: str) -> etree.XMLSchema:
    """A shipped XSD (dashboard/feeds/schemas/), loaded once, never from the network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), parser))


def schema_problems(data: bytes, name: str, limit: int = 5) -> list[str]:
    """Validate a document that parse_xml accepted; return up to `limit` problems, one line each.

    The problems are warnings for the feed's health: a usable item still lands.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        document = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return [f"schema check skipped: {exc}"]
    validator = schema(name)
    if validator.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in list(validator.error_log)[:limit]]
