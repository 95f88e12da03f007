"""The settings table and its loader.

Every setting cliquetish knows is one row of :data:`SETTINGS`: its key, a cast that turns the
raw text of an ``.ini`` file or of an environment variable into a typed value, its default and a
one-line description (the settings reference in the docs is generated from this table).

Values are read, lowest precedence first, from the defaults, the ``.ini`` file
(``<prefix>.<key>``, ``cliquetish.`` by default) and the environment (``<PREFIX>_<KEY>``, the key
upper-cased with ``.`` turned into ``_``). A value that does not cast stops start-up with a
:class:`~cliquetish.errors.ConfigurationError` naming the key.

Keys that are not in the table but carry the prefix (``<resource>_<permission>_principals``,
``multiauth.policy.<name>.use``, ...) are kept as strings, unprefixed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cliquetish.errors import ConfigurationError

__all__ = [
    "SETTINGS",
    "Setting",
    "as_bool",
    "as_list",
    "env_name",
    "load_settings",
]


def as_bool(value: Any) -> bool:
    """Cast ``true/false``, ``yes/no``, ``on/off``, ``1/0`` (any case) to a bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    raise ValueError(f"{value!r} is not a boolean (use true or false)")


def as_list(value: Any) -> list[str]:
    """Cast a whitespace- or comma-separated string to a list of non-empty strings."""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [item for item in str(value).replace(",", " ").split() if item]


def as_positive_int(value: Any) -> int:
    """Cast to an int that is zero or more."""
    number = int(value)
    if number < 0:
        raise ValueError(f"{value!r} is negative")
    return number


def as_optional_int(value: Any) -> int | None:
    """Cast to a non-negative int, or ``None`` for an empty value."""
    if value is None or str(value).strip() == "":
        return None
    return as_positive_int(value)


def as_positive_float(value: Any) -> float:
    """Cast to a float greater than zero."""
    number = float(value)
    if not number > 0:
        raise ValueError(f"{value!r} is not greater than zero")
    return number


def as_non_negative_float(value: Any) -> float:
    """Cast to a float that is zero or more."""
    number = float(value)
    if not number >= 0:
        raise ValueError(f"{value!r} is negative")
    return number


def as_str(value: Any) -> str:
    """Cast to a stripped string."""
    return str(value).strip()


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    key: str
    cast: Callable[[Any], Any]
    default: Any
    description: str


SETTINGS: tuple[Setting, ...] = (
    # Project
    Setting("project_name", as_str, "cliquetish", "Name shown by the hello view."),
    Setting("project_version", as_str, "", "Version of the application (from initialize())."),
    Setting("project_docs", as_str, "https://cliquetish.readthedocs.io/",
            "Documentation URL shown by the hello view and in error bodies."),
    Setting("http_api_version", as_str, "",
            "HTTP API version; its major number is the URL prefix (default: project_version)."),
    Setting("development", as_bool, False,
            "Development mode: allows an empty userid_hmac_secret."),
    Setting("userid_hmac_secret", as_str, "",
            "Secret key of the HMAC that turns credentials into user ids. Required."),
    Setting("version_prefix_redirect_enabled", as_bool, True,
            "Redirect un-prefixed paths (307) to the /v<major> prefix."),
    Setting("trailing_slash_redirect_enabled", as_bool, True,
            "Redirect paths with a trailing slash (307) to the path without it."),
    Setting("version_json_path", as_str, "version.json", "File served by __version__."),
    # Backends
    Setting("storage_backend", as_str, "", "Dotted module of the storage backend (empty: none)."),
    Setting("storage_url", as_str, "", "URL of the storage server."),
    Setting("storage_pool_size", as_positive_int, 10, "Connections kept by the storage pool."),
    Setting("storage_max_overflow", as_positive_int, 10,
            "Connections the storage pool may open beyond its size."),
    Setting("storage_pool_timeout_seconds", as_positive_float, 5.0,
            "Wait for a free storage connection before failing with 503."),
    Setting("storage_max_fetch_size", as_positive_int, 10000,
            "Most records one listing may return."),
    Setting("cache_backend", as_str, "", "Dotted module of the cache backend (empty: none)."),
    Setting("cache_url", as_str, "", "URL of the cache server."),
    Setting("cache_prefix", as_str, "", "Prefix of every cache key."),
    Setting("cache_max_size_bytes", as_positive_int, 524288,
            "Memory cache: most bytes kept before evicting the oldest entries."),
    Setting("cache_pool_size", as_positive_int, 10, "Connections kept by the cache pool."),
    Setting("cache_max_overflow", as_positive_int, 10,
            "Connections the cache pool may open beyond its size."),
    Setting("cache_pool_timeout_seconds", as_positive_float, 5.0,
            "Wait for a free cache connection before failing with 503."),
    Setting("permission_backend", as_str, "",
            "Dotted module of the permission backend (empty: none)."),
    Setting("permission_url", as_str, "", "URL of the permission server."),
    Setting("permission_pool_size", as_positive_int, 10,
            "Connections kept by the permission pool."),
    Setting("permission_max_overflow", as_positive_int, 10,
            "Connections the permission pool may open beyond its size."),
    Setting("permission_pool_timeout_seconds", as_positive_float, 5.0,
            "Wait for a free permission connection before failing with 503."),
    Setting("permission_principals_cache_seconds", as_non_negative_float, 2.0,
            "PostgreSQL permission backend: how long a process keeps a user's groups "
            "(0: read them on every request)."),
    Setting("heartbeat_timeout_seconds", as_positive_float, 10.0,
            "Time given to the heartbeat checks before they count as failed."),
    # Protocol
    Setting("paginate_by", as_optional_int, None,
            "Default and largest page size of listings (empty: storage_max_fetch_size)."),
    Setting("batch_max_requests", as_positive_int, 25, "Most sub-requests in one batch."),
    Setting("max_request_body_bytes", as_positive_int, 1048576,
            "Largest request body accepted (413 beyond)."),
    Setting("json_max_depth", as_positive_int, 64,
            "Deepest nesting of arrays and objects accepted in a JSON body."),
    Setting("readonly", as_bool, False, "Refuse every write with 405."),
    # Operations
    Setting("backoff", as_optional_int, None,
            "Seconds sent in a Backoff header on every response (empty: none)."),
    Setting("retry_after_seconds", as_positive_int, 30,
            "Seconds sent in Retry-After on 503 and 409 answers."),
    Setting("eos", as_str, "", "End-of-service date (YYYY-MM-DD): 410 after it."),
    Setting("eos_message", as_str, "", "Message of the Alert header."),
    Setting("eos_url", as_str, "", "URL of the Alert header."),
    Setting("cors_origins", as_list, ["*"], "Origins allowed by CORS."),
    Setting("cors_max_age_seconds", as_positive_int, 3600, "Lifetime of a CORS preflight."),
    Setting("statsd_url", as_str, "", "udp://host:port of a statsd server (empty: no metrics)."),
    Setting("statsd_prefix", as_str, "cliquetish", "Prefix of every statsd metric."),
    Setting("profiler_enabled", as_bool, False, "Wrap the WSGI app with a profiler."),
    Setting("profiler_dir", as_str, "/tmp",  # noqa: S108
            "Folder the profiler writes its files to."),
    Setting("multiauth.policies", as_list, ["basicauth"],
            "Authentication policies tried in order."),
)

SETTINGS_BY_KEY: dict[str, Setting] = {setting.key: setting for setting in SETTINGS}


def env_name(key: str, prefix: str = "cliquetish") -> str:
    """The environment variable that overrides ``key``: ``CLIQUETISH_STORAGE_URL``."""
    return f"{prefix}_{key}".upper().replace(".", "_")


def _unknown_env_key(name: str) -> str:
    """The key of an environment name not in the table: ``MULTIAUTH_POLICY_<NAME>_USE`` gives
    ``multiauth.policy.<name>.use``; any other name is just lower-cased."""
    key = name.lower()
    if key.startswith("multiauth_policy_") and key.endswith("_use") and len(key) > 21:
        return f"multiauth.policy.{key[len('multiauth_policy_'):-len('_use')]}.use"
    return key


def _raw_values(
    raw: Mapping[str, Any], environ: Mapping[str, str], prefix: str,
    defaults: Mapping[str, Any],
) -> dict[str, Any]:
    """Merge defaults < ini < environment, before casting. Keys come back unprefixed."""
    values: dict[str, Any] = {row.key: row.default for row in SETTINGS}
    values.update(defaults)
    ini_prefix = prefix + "."
    for name, value in raw.items():
        key = name[len(ini_prefix):] if name.startswith(ini_prefix) else None
        if key:
            values[key] = value
    env_to_key = {env_name(key, prefix): key for key in values}
    env_prefix = prefix.upper() + "_"
    for name, value in environ.items():
        if name in env_to_key:
            values[env_to_key[name]] = value
        elif name.startswith(env_prefix):
            values[_unknown_env_key(name[len(env_prefix):])] = value
    return values


def load_settings(
    raw: Mapping[str, Any],
    prefix: str = "cliquetish",
    defaults: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the typed settings: defaults < ``raw`` (ini) < ``environ``.

    ``raw`` is the Pyramid settings dict. The result has every key of :data:`SETTINGS`,
    unprefixed and cast, plus the other prefixed keys as given.

    :raises ConfigurationError: a value does not cast; the message names the key.
    """
    environ = os.environ if environ is None else environ
    values = _raw_values(raw, environ, prefix, defaults or {})
    typed: dict[str, Any] = {}
    for key, value in values.items():
        row = SETTINGS_BY_KEY.get(key)
        if row is None or (value is row.default and key not in (defaults or {})):
            typed[key] = value
            continue
        try:
            typed[key] = row.cast(value)
        except (TypeError, ValueError) as error:
            raise ConfigurationError(
                f"Invalid setting {prefix}.{key} = {value!r}: {error}", key=key
            ) from error
    return typed
