"""Who is making the request: pluggable authentication policies behind one security policy.

The settings list the policies tried in order (the first that recognises the request wins)::

    cliquetish.multiauth.policies = basicauth token
    cliquetish.multiauth.policy.token.use = myapp.auth.TokenPolicy
    cliquetish.multiauth.policy.token.header = X-Token

``use`` names a policy object, or a class or function called with the policy's other options
(``header="X-Token"`` above) as keyword arguments. A policy has
``authenticated_userid(request) -> str | None`` (the *prefixed* user id, ``"token:..."``),
``remember(request, userid, **kw) -> headers`` and ``forget(request, **kw) -> headers``.
``basicauth`` needs no ``use`` line: it is :class:`BasicAuthPolicy`.

``includeme`` installs :class:`MultiAuthSecurityPolicy` and adds two reified request
properties: ``request.prefixed_userid`` and ``request.principals``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden
from pyramid.security import Denied

from cliquetish.authorization import forbidden, unauthorized
from cliquetish.errors import ConfigurationError

__all__ = [
    "AuthenticationPolicy",
    "BasicAuthPolicy",
    "Identity",
    "MultiAuthSecurityPolicy",
    "SecurityDenialPredicate",
    "basic_credentials",
    "basic_userid",
    "denied_view",
    "includeme",
    "load_policies",
    "request_principals",
    "request_prefixed_userid",
    "secrets_equal",
    "userid_hmac",
]

Headers = list[tuple[str, str]]

POLICY_SETTING = "multiauth.policy.{name}.use"
DEFAULT_POLICIES: dict[str, str] = {"basicauth": "cliquetish.authentication.BasicAuthPolicy"}


class AuthenticationPolicy(Protocol):
    """What one entry of ``multiauth.policies`` provides."""

    def authenticated_userid(self, request: Any) -> str | None:
        """The prefixed user id of the request's credentials, or None."""

    def remember(self, request: Any, userid: str, **kw: Any) -> Headers:
        """Headers that make the client send credentials for ``userid``."""

    def forget(self, request: Any, **kw: Any) -> Headers:
        """Headers that make the client drop or ask for credentials."""


def secrets_equal(left: str | bytes, right: str | bytes) -> bool:
    """Compare two secrets in constant time (text is compared as UTF-8)."""
    left_bytes = left.encode("utf-8") if isinstance(left, str) else left
    right_bytes = right.encode("utf-8") if isinstance(right, str) else right
    return hmac.compare_digest(left_bytes, right_bytes)


@functools.lru_cache(maxsize=8)
def _keyed_hmac(secret: str) -> Any:
    """An HMAC-SHA256 keyed by ``secret``, to be copied: a copy skips the key set-up (and
    OpenSSL's look-up of the algorithm, which costs more than the hash of a short message)."""
    return hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)


def userid_hmac(secret: str, message: str) -> str:
    """Hex HMAC-SHA256 of ``message`` keyed by ``secret`` (both UTF-8)."""
    digest = _keyed_hmac(secret).copy()
    digest.update(message.encode("utf-8"))
    return digest.hexdigest()


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(user, password)`` of a ``Basic`` Authorization header, or None.

    None for anything malformed: another scheme, bad base64, no colon, text that is not UTF-8,
    an empty user or password.
    """
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or not user or not password:
        return None
    return user, password


BASIC_USERIDS_REMEMBERED = 1024
"""Distinct ``Authorization`` headers whose user id a process remembers."""


@functools.lru_cache(maxsize=BASIC_USERIDS_REMEMBERED)
def basic_userid(prefix: str, secret: str, authorization: str) -> str | None:
    """``<prefix>:<hex HMAC-SHA256(secret, user:password)>`` of a basic ``Authorization``
    header, or None when the header holds no valid basic credentials.

    A client sends the same header with each request: the answers for the last
    :data:`BASIC_USERIDS_REMEMBERED` headers are remembered, so most requests skip the base64
    decoding and the HMAC. (The headers remembered stay in the process's memory, where every
    request's header passes anyway.)
    """
    credentials = basic_credentials(authorization)
    if credentials is None:
        return None
    return f"{prefix}:{userid_hmac(secret, '{}:{}'.format(*credentials))}"


class BasicAuthPolicy:
    """HTTP basic auth where any ``user:password`` is an account.

    The user id is ``basicauth:`` + hex HMAC-SHA256(``userid_hmac_secret``, ``user:password``):
    the server stores no password, and a different password is simply another user.
    """

    prefix = "basicauth"

    def __init__(self, realm: str | None = None) -> None:
        self.realm = realm

    def authenticated_userid(self, request: Any) -> str | None:
        """``basicauth:<hex>`` for valid basic credentials, else None."""
        authorization = request.environ.get("HTTP_AUTHORIZATION")
        if not authorization:
            return None
        secret = request.registry.settings.get("userid_hmac_secret") or ""
        return basic_userid(self.prefix, secret, authorization)

    def remember(self, request: Any, userid: str, **kw: Any) -> Headers:
        """Basic auth has no server-side session: nothing to send."""
        return []

    def forget(self, request: Any, **kw: Any) -> Headers:
        """The challenge that makes clients ask for credentials."""
        realm = self.realm or request.registry.settings.get("project_name") or "cliquetish"
        return [("WWW-Authenticate", f'Basic realm="{realm}"')]


@dataclass(frozen=True)
class Identity:
    """The authenticated user: the prefixed id and the name of the policy that recognised it."""

    userid: str
    policy_name: str


class MultiAuthSecurityPolicy:
    """A Pyramid security policy asking each named policy in turn who the user is.

    ``permits`` applies the context's ``__acl__`` (if any) to ``request.principals``; the
    resource layer checks its permissions with :mod:`cliquetish.authorization` instead.
    """

    def __init__(self, policies: Sequence[tuple[str, AuthenticationPolicy]]) -> None:
        self.policies = list(policies)
        self._acl_helper = ACLHelper()

    def identity(self, request: Any) -> Identity | None:
        """The first policy's answer, or None when no policy recognises the request."""
        for name, policy in self.policies:
            userid = policy.authenticated_userid(request)
            if userid:
                return Identity(userid=userid, policy_name=name)
        return None

    def authenticated_userid(self, request: Any) -> str | None:
        """The prefixed user id, or None."""
        for _, policy in self.policies:
            userid = policy.authenticated_userid(request)
            if userid:
                return userid
        return None

    def permits(self, request: Any, context: Any, permission: str) -> Any:
        """Allowed when the context's ACL grants ``permission`` to a principal of the request."""
        if getattr(context, "__acl__", None) is None:
            return Denied("The context has no ACL")
        return self._acl_helper.permits(context, request.principals, permission)

    def remember(self, request: Any, userid: str, **kw: Any) -> Headers:
        """Headers of every policy's ``remember``."""
        return [header for _, p in self.policies for header in p.remember(request, userid, **kw)]

    def forget(self, request: Any, **kw: Any) -> Headers:
        """Headers of every policy's ``forget`` (the challenges of a 401)."""
        return [header for _, p in self.policies for header in p.forget(request, **kw)]


def _policy_options(settings: Mapping[str, Any], name: str) -> dict[str, Any]:
    prefix = f"multiauth.policy.{name}."
    return {
        key[len(prefix):]: value
        for key, value in settings.items()
        if key.startswith(prefix) and key != prefix + "use"
    }


def load_policies(config: Configurator) -> list[tuple[str, AuthenticationPolicy]]:
    """Build the ``(name, policy)`` list named by ``multiauth.policies``.

    :raises ConfigurationError: a policy has no ``use`` line, or it cannot be imported.
    """
    settings = config.get_settings()
    policies = []
    for name in settings.get("multiauth.policies") or []:
        key = POLICY_SETTING.format(name=name)
        dotted = settings.get(key) or DEFAULT_POLICIES.get(name)
        if not dotted:
            raise ConfigurationError(
                f"Missing setting {key}: name the class of the {name!r} authentication policy",
                key=key,
            )
        try:
            target = config.maybe_dotted(dotted)
        except ImportError as error:
            raise ConfigurationError(
                f"Invalid setting {key} = {dotted!r}: cannot import it ({error})", key=key
            ) from error
        is_instance = not isinstance(target, type) and hasattr(target, "authenticated_userid")
        policy = target if is_instance else target(**_policy_options(settings, name))
        policies.append((name, policy))
    return policies


def request_prefixed_userid(request: Any) -> str | None:
    """``request.prefixed_userid``: the authenticated user id (``basicauth:<hex>``) or None."""
    return request.authenticated_userid


def request_principals(request: Any) -> tuple[str, ...]:
    """``request.principals``: ``system.Everyone``; when authenticated also
    ``system.Authenticated``, the user id and the user's groups from the permission backend."""
    userid = request.prefixed_userid
    if userid is None:
        return (Everyone,)
    principals = [Everyone, Authenticated, userid]
    permission_backend = request.permission
    if permission_backend is not None:
        groups = permission_backend.get_user_principals(userid)
        principals.extend(sorted(group for group in groups if group not in principals))
    return tuple(principals)


class SecurityDenialPredicate:
    """View predicate ``security_denial=True``: the exception is Pyramid's refusal of a view's
    ``permission=`` (an ``HTTPForbidden`` carrying the security policy's ``result``)."""

    def __init__(self, value: bool, config: Configurator) -> None:
        self.value = bool(value)

    def text(self) -> str:
        return f"security_denial = {self.value}"

    phash = text

    def __call__(self, context: Any, request: Any) -> bool:
        return (getattr(context, "result", None) is not None) is self.value


def denied_view(error: HTTPForbidden, request: Any) -> Any:
    """A view's ``permission=`` refused by Pyramid: 401 (errno 104/105, with the challenge)
    for anonymous requests, 403 errno 121 otherwise. (A ``HTTPForbidden`` raised by a view
    itself is left to the other exception views.)"""
    return unauthorized(request) if request.prefixed_userid is None else forbidden(request)


def includeme(config: Configurator) -> None:
    """Install the security policy, the request properties and the view of refusals."""
    config.set_security_policy(MultiAuthSecurityPolicy(load_policies(config)))
    config.add_view_predicate("security_denial", SecurityDenialPredicate)
    config.add_exception_view(denied_view, context=HTTPForbidden, security_denial=True)
    config.add_request_method(request_prefixed_userid, "prefixed_userid", reify=True)
    config.add_request_method(request_principals, "principals", reify=True)
