"""Getting a feed's bytes: HTTP(S) with conditional GET and a size limit, or a local file.

Errors say whether trying again may help (timeouts, connection failures, 5xx, 429) or not
(4xx, too large), and never carry credentials from the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx


class FetchError(Exception):
    """The document could not be had; `retryable` says whether another try may work."""

    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


@dataclass(frozen=True)
class Fetched:
    """A document (None when the server said 304 Not Modified) and its validators."""

    data: bytes | None
    etag: str | None = None
    last_modified: str | None = None


def safe_url(url: str) -> str:
    """The URL without user:password, for logs and health."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url


def fetch_url(client: httpx.Client, url: str, *, timeout: float, max_bytes: int,
              etag: str | None = None, last_modified: str | None = None) -> Fetched:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                return Fetched(None, etag, last_modified)
            if response.status_code >= 400:
                retryable = response.status_code >= 500 or response.status_code == 429
                raise FetchError(f"HTTP {response.status_code} from {safe_url(url)}", retryable)
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise FetchError(_too_big(declared, max_bytes), retryable=False)
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise FetchError(_too_big(len(body), max_bytes), retryable=False)
            return Fetched(bytes(body), response.headers.get("ETag"),
                           response.headers.get("Last-Modified"))
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {timeout:g} s: {safe_url(url)}", True) from None
    except httpx.TransportError as exc:
        raise FetchError(f"cannot reach {safe_url(url)}: {type(exc).__name__}", True) from None


def read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError(_too_big(size, max_bytes), retryable=False)
        return path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror}", retryable=True) from None


def _too_big(size: int, limit: int) -> str:
    return f"document of {size} bytes is over the feed's limit of {limit} bytes"
