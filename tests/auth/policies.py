"""Authentication policies used by the tests as ``multiauth.policy.<name>.use`` targets."""

from __future__ import annotations

from typing import Any

from cliquetish.authentication import secrets_equal


class TokenPolicy:
    """Recognises ``<header>: <token>`` as the user ``token:<user>``."""

    def __init__(self, header: str = "X-Token", token: str = "", user: str = "bob") -> None:
        self.header = header
        self.token = token
        self.user = user

    def authenticated_userid(self, request: Any) -> str | None:
        sent = request.headers.get(self.header)
        if sent and self.token and secrets_equal(sent, self.token):
            return f"token:{self.user}"
        return None

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return [("X-Token-Remembered", userid)]

    def forget(self, request: Any, **kw: Any) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", 'Token realm="tests"')]


class EveryoneIsCarol:
    """A policy object (not a class) that answers for any request with ``X-Carol: yes``."""

    def authenticated_userid(self, request: Any) -> str | None:
        return "carol:1" if request.headers.get("X-Carol") == "yes" else None

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Any, **kw: Any) -> list[tuple[str, str]]:
        return []


carol_policy = EveryoneIsCarol()
