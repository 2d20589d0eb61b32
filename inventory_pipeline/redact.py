"""Secrets out of every message: a URL may carry a token in its user info, path or query."""

from __future__ import annotations

import re

_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^\s/@]*@)?(?P<host>[^\s/?#'\"]+)[^\s'\"]*")
# urllib3 quotes only the path: "Max retries exceeded with url: /hook/<token>?sig=..."
_URL_PATH = re.compile(r"(?P<label>\burl: )/[^\s'\"]*")


def redact_urls(text: str) -> str:
    """Each URL in ``text`` reduced to its scheme and host: ``https://hooks.example/…``."""
    text = _URL.sub(lambda m: f"{m['scheme']}://{m['host']}/…", text)
    return _URL_PATH.sub(lambda m: f"{m['label']}/…", text)
