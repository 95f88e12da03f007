"""A tiny HTTP client for the correctness checks and the set-up calls (loopback only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

BENCH_CREDENTIALS = "bench:bench"
USERID_SECRET = "bench-secret"  # noqa: S105 - the userid_hmac_secret of the three ini files


def basic_auth(credentials: str = BENCH_CREDENTIALS) -> str:
    """The ``Authorization`` header value for ``user:password``."""
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def basicauth_user_id(credentials: str = BENCH_CREDENTIALS, secret: str = USERID_SECRET) -> str:
    """The user id every system derives from basic-auth credentials."""
    digest = hmac.new(secret.encode(), credentials.encode(), hashlib.sha256).hexdigest()
    return "basicauth:" + digest


@dataclass
class Answer:
    """One HTTP answer, its body decoded from JSON when it is JSON."""

    status: int
    headers: dict[str, str]
    body: Any


def call(port: int, method: str, path: str, body: Any = None, auth: bool = True,
         timeout: float = 30.0) -> Answer:
    """Send one request to ``127.0.0.1:port`` and return the decoded answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Accept": "application/json"}
    payload = None
    if auth:
        headers["Authorization"] = basic_auth()
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return Answer(response.status, answer_headers, decoded)


def path_of(url: str) -> str:
    """The path and querystring of an absolute URL (``Next-Page`` values)."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
