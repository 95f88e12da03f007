"""The ``cliquetish`` command: maintenance of an application's backends.

::

    cliquetish migrate [--dry-run]                 create or upgrade every backend's schema
    cliquetish purge-deleted <collection> [--older-than SECONDS]
                                                   remove tombstones (and their permissions)
    cliquetish flush-cache                         empty the cache backend
    cliquetish version                             print the versions

Every command takes ``--ini`` (default ``app.ini``) and ``--app-name`` (default ``main``). The
application is bootstrapped from that file exactly as ``pserve`` would load it, so the
``CLIQUETISH_*`` environment variables and every other setting apply the same way.

Exit codes: 0 success, 1 failure (one line on standard error), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pyramid.registry import Registry

import cliquetish
from cliquetish.errors import CliquetishError
from cliquetish.interfaces import ICache, IPermission, IStorage

__all__ = ["CommandError", "Progress", "build_parser", "main"]

DEFAULT_INI = "app.ini"
PERMISSION_CHUNK_SIZE = 500
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
BACKEND_MARKERS = (("storage", IStorage), ("cache", ICache), ("permission", IPermission))


class CommandError(CliquetishError):
    """A command cannot do its job; the message is shown to the user as is."""


@dataclass
class Context:
    """What a command works with: the parsed arguments and the bootstrapped application."""

    args: argparse.Namespace
    registry: Registry
    request: Any
    out: TextIO
    err: TextIO

    @property
    def settings(self) -> dict[str, Any]:
        """The application's typed settings."""
        return self.registry.settings

    def backend(self, kind: str) -> Any:
        """The ``kind`` backend, or :class:`CommandError` when the application has none."""
        marker = dict(BACKEND_MARKERS)[kind]
        backend = self.registry.queryUtility(marker)
        if backend is None:
            raise CommandError(
                f"no {kind} backend is configured (set cliquetish.{kind}_backend "
                f"in {self.args.ini} or CLIQUETISH_{kind.upper()}_BACKEND)"
            )
        return backend


class Progress:
    """``done/total`` progress on one updated line of ``stream``, when ``enabled``."""

    def __init__(self, stream: TextIO, enabled: bool, label: str) -> None:
        self.stream = stream
        self.enabled = enabled
        self.label = label
        self.shown = False

    def update(self, done: int, total: int) -> None:
        """Show that ``done`` of ``total`` items are processed."""
        if not self.enabled:
            return
        percent = 100 if total == 0 else done * 100 // total
        self.stream.write(f"\r{self.label}: {done}/{total} ({percent}%)")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        """End the progress line."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def _non_negative_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ini", default=None, metavar="FILE",
        help=f"the application's configuration file (default: {DEFAULT_INI})",
    )
    parser.add_argument(
        "--app-name", default="main", metavar="NAME",
        help="the [app:NAME] section to load (default: main)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cliquetish`` command."""
    parser = argparse.ArgumentParser(
        prog="cliquetish",
        description="Maintenance of a cliquetish application's backends.",
        epilog="Settings come from the ini file and CLIQUETISH_* environment variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", help="create or upgrade every backend's schema")
    migrate.add_argument("--dry-run", action="store_true",
                         help="only say what would be done; change nothing")

    purge = commands.add_parser("purge-deleted", help="remove the tombstones of a collection")
    purge.add_argument("collection", help="the collection id (e.g. the resource name)")
    purge.add_argument("--older-than", type=_non_negative_seconds, default=None,
                       metavar="SECONDS", help="only tombstones older than this age")
    purge.add_argument("--progress", action="store_true",
                       help="show progress even when standard error is not a terminal")

    commands.add_parser("flush-cache", help="delete every entry of the cache backend")
    commands.add_parser("version", help="print the versions of cliquetish and the application")

    for subparser in commands.choices.values():
        _add_common_options(subparser)
    return parser


@contextlib.contextmanager
def bootstrapped(args: argparse.Namespace) -> Iterator[tuple[Registry, Any]]:
    """Load the application of ``args.ini`` (as ``pserve`` would) and yield its registry and a
    request anchored to it."""
    from pyramid.paster import bootstrap

    ini = Path(args.ini)
    if not ini.is_file():
        raise CommandError(f"cannot read {args.ini}: no such file (give one with --ini)")
    env = bootstrap(f"{ini}#{args.app_name}")
    try:
        yield env["registry"], env["request"]
    finally:
        env["closer"]()


def in_transaction(request: Any, work: Callable[[], Any]) -> Any:
    """Run ``work`` in a transaction of the request's manager, committed when it returns."""
    manager = request.tm if hasattr(request, "tm") else None
    if manager is None:
        return work()
    with manager:
        return work()


def _step_text(kind: str, step: str, dry_run: bool) -> str:
    """A backend's migration step as shown: without a repeated kind, conditional on dry runs."""
    text = str(step).removeprefix(f"{kind}: ").removeprefix(f"{kind} schema: ")
    if dry_run and "would" not in text:
        text = f"would {text}"
    return text


def command_migrate(context: Context) -> int:
    """``migrate``: call ``initialize_schema`` on each configured backend, say what it did."""
    dry_run = context.args.dry_run
    seen: set[int] = set()
    for kind, marker in BACKEND_MARKERS:
        backend = context.registry.queryUtility(marker)
        if backend is None or id(backend) in seen:
            continue
        seen.add(id(backend))
        steps = backend.initialize_schema(dry_run=dry_run) or []
        name = f"{kind} ({type(backend).__module__})"
        if not steps:
            print(f"{name}: nothing to do", file=context.out)
        for step in steps:
            print(f"{name}: {_step_text(kind, step, dry_run)}", file=context.out)
    if not seen:
        print("no backend is configured: nothing to do", file=context.out)
    return EXIT_OK


def _delete_permissions(context: Context, object_ids: Sequence[str], progress: Progress) -> None:
    permission = context.registry.queryUtility(IPermission)
    if permission is None or not object_ids:
        return
    total = len(object_ids)
    for start in range(0, total, PERMISSION_CHUNK_SIZE):
        chunk = object_ids[start:start + PERMISSION_CHUNK_SIZE]
        in_transaction(context.request,
                       lambda chunk=chunk: permission.delete_object_permissions(*chunk))
        progress.update(min(start + len(chunk), total), total)
    progress.finish()


def resolve_collection(context: Context, name: str) -> tuple[str, str | None]:
    """The storage collection id of ``name`` (a resource's name or plural, or a raw
    collection id) and the permission object id prefix of its records (None: no
    permissions to drop)."""
    from cliquetish.openapi.resources import registered_resources

    for description in registered_resources(context.registry):
        if name in (description.name, description.plural):
            prefix = description.object_id_prefix if description.shareable else None
            return description.collection_id, prefix
    return name, None


def command_purge_deleted(context: Context) -> int:
    """``purge-deleted``: remove a collection's tombstones, then the permissions they kept."""
    args = context.args
    storage = context.backend("storage")
    before = None
    if args.older_than is not None:
        before = int(time.time() * 1000) - args.older_than * 1000
    show = args.progress or context.err.isatty()
    if show:
        print(f"purging tombstones of {args.collection}...", file=context.err)
    collection_id, object_prefix = resolve_collection(context, args.collection)
    purged = in_transaction(
        context.request, lambda: storage.purge_deleted(collection_id, None, before=before)
    )
    if object_prefix is not None:
        object_ids = [object_prefix + record_id for record_id in purged]
        _delete_permissions(context, object_ids, Progress(context.err, show, "permissions"))
    age = f" older than {args.older_than} s" if args.older_than is not None else ""
    print(f"purged {len(purged)} tombstone(s){age} from {args.collection}", file=context.out)
    return EXIT_OK


def command_flush_cache(context: Context) -> int:
    """``flush-cache``: empty the cache backend."""
    cache = context.backend("cache")
    in_transaction(context.request, cache.flush)
    print(f"cache flushed ({type(cache).__module__})", file=context.out)
    return EXIT_OK


def command_version(context: Context) -> int:
    """``version``: the application's name and versions."""
    settings = context.settings
    print(
        f"{settings.get('project_name')} {settings.get('project_version')} "
        f"(HTTP API {settings.get('http_api_version')})",
        file=context.out,
    )
    return EXIT_OK


COMMANDS: dict[str, Callable[[Context], int]] = {
    "migrate": command_migrate,
    "purge-deleted": command_purge_deleted,
    "flush-cache": command_flush_cache,
    "version": command_version,
}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the parsed command; errors are raised for :func:`main` to report."""
    if args.command == "version":
        print(f"cliquetish {cliquetish.__version__}", file=out)
        if args.ini is None and not Path(DEFAULT_INI).is_file():
            return EXIT_OK
    args.ini = args.ini or DEFAULT_INI
    with bootstrapped(args) as (registry, request):
        context = Context(args=args, registry=registry, request=request, out=out, err=err)
        return COMMANDS[args.command](context)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    """Entry point of the ``cliquetish`` console script; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return run(args, out, err)
    except KeyboardInterrupt:
        print("cliquetish: interrupted", file=err)
    except Exception as error:  # noqa: BLE001 - every failure becomes one line and exit 1
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"cliquetish {args.command}: error: {message}", file=err)
    return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
