"""Secrets: compared in constant time, and required outside development mode.

Constant time is checked by behaviour, not by timing: :func:`hmac.compare_digest` is wrapped by
a recorder and the test shows that checking a pagination token's signature (through HTTP) and
:func:`cliquetish.authentication.secrets_equal` go through it. A scan of the package's source
makes sure no ``==``/``!=`` ever compares a value named like a secret, a signature, a password,
a digest or an HMAC.
"""

from __future__ import annotations

import ast
import base64
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import webtest

import cliquetish
from cliquetish.authentication import secrets_equal
from cliquetish.errors import ConfigurationError
from cliquetish.testing import make_app
from tests.security.conftest import ALICE, SETTINGS

PACKAGE = Path(cliquetish.__file__).parent
SECRET_NAMES = ("secret", "signature", "password", "digest", "hmac", "credential")


class CompareRecorder:
    """Stands in for ``hmac.compare_digest``: records each call, answers like the original."""

    def __init__(self) -> None:
        self.original = hmac.compare_digest
        self.calls: list[tuple[bytes | str, bytes | str]] = []

    def __call__(self, left: bytes | str, right: bytes | str) -> bool:
        self.calls.append((left, right))
        return self.original(left, right)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[CompareRecorder]:
    spy = CompareRecorder()
    monkeypatch.setattr(hmac, "compare_digest", spy)
    yield spy


def _next_token(app: webtest.TestApp) -> str:
    for index in range(3):
        app.post_json("/v1/articles", {"data": {"n": index}}, headers=ALICE, status=201)
    response = app.get("/v1/articles?_limit=1", headers=ALICE, status=200)
    return parse_qs(urlparse(response.headers["Next-Page"]).query)["_token"][0]


def _forged(token: str, signature: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    payload = json.loads(base64.urlsafe_b64decode(padded))
    payload["s"] = signature
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=")
    return encoded.decode()


def test_token_signatures_are_compared_in_constant_time(app: webtest.TestApp,
                                                        recorder: CompareRecorder) -> None:
    token = _next_token(app)
    recorder.calls.clear()
    app.get(f"/v1/articles?_limit=1&_token={token}", headers=ALICE, status=200)
    assert len(recorder.calls) == 1
    expected, given = recorder.calls[0]
    assert expected == given
    for signature in ("0" * 32, "", "not-hex", "f" * 64):
        recorder.calls.clear()
        forged = _forged(token, signature)
        response = app.get(f"/v1/articles?_limit=1&_token={forged}", headers=ALICE, status=400)
        assert response.json["details"][0]["name"] == "_token"
        assert len(recorder.calls) == 1, signature
        assert recorder.calls[0][0] != recorder.calls[0][1]


def test_secrets_equal_uses_compare_digest(recorder: CompareRecorder) -> None:
    assert secrets_equal("token-é", "token-é")
    assert not secrets_equal("token", "token2")
    assert not secrets_equal(b"a", "b")
    assert recorder.calls == [("token-é".encode(), "token-é".encode()),
                              (b"token", b"token2"), (b"a", b"b")]


def _equality_on_secret_names(tree: ast.AST, source: str) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            continue
        for operand in (node.left, *node.comparators):
            text = (ast.get_source_segment(source, operand) or "").lower()
            if isinstance(operand, ast.Constant):
                continue
            if any(name in text for name in SECRET_NAMES):
                found.append(f"line {node.lineno}: {ast.get_source_segment(source, node)}")
    return found


def test_no_secret_is_compared_with_equality_operators() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for finding in _equality_on_secret_names(ast.parse(source), source):
            offenders.append(f"{path.relative_to(PACKAGE)} {finding}")
    assert offenders == []


def test_the_scan_finds_a_plain_comparison() -> None:
    source = "def check(sent, secret):\n    return sent == secret\n"
    assert _equality_on_secret_names(ast.parse(source), source) == [
        "line 2: sent == secret"]


# Empty secret -----------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", ("", "   ", "\t\n"))
def test_refuses_to_start_without_a_secret(secret: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_app({**SETTINGS, "userid_hmac_secret": secret})
    assert caught.value.key == "userid_hmac_secret"
    assert "userid_hmac_secret" in str(caught.value)


def test_an_empty_environment_variable_overrides_the_ini_secret(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIQUETISH_USERID_HMAC_SECRET", "")
    with pytest.raises(ConfigurationError):
        make_app(SETTINGS)


@pytest.mark.parametrize("development", ("false", "0", "no", False))
def test_development_off_still_needs_a_secret(development: object) -> None:
    with pytest.raises(ConfigurationError):
        make_app({**SETTINGS, "userid_hmac_secret": "", "development": development})


def test_development_mode_starts_without_a_secret() -> None:
    app = make_app({**SETTINGS, "userid_hmac_secret": "", "development": "true"})
    assert app.get("/v1/", headers=ALICE, status=200).json["user"]["id"].startswith(
        "basicauth:")


def test_the_demo_entry_point_refuses_too() -> None:
    from cliquetish.demo import main

    with pytest.raises(ConfigurationError):
        main({}, **{"cliquetish.storage_backend": "cliquetish.storage.memory"})
