"""install_middlewares: one cProfile file per request when profiler_enabled."""

from __future__ import annotations

import pstats

from cliquetish.profiler import ProfilerMiddleware
from tests.tweens.apps import build_app


def test_each_request_writes_a_profile(tmp_path) -> None:
    directory = tmp_path / "profiles"
    app = build_app({"profiler_enabled": "true", "profiler_dir": str(directory)})
    assert isinstance(app.app, ProfilerMiddleware)
    app.get("/v1/__heartbeat__", status=200)
    app.get("/v1/nowhere/../%0d%0a", status=404)
    files = sorted(directory.iterdir())
    assert len(files) == 2
    assert all(f.suffix == ".prof" and "\r" not in f.name and "\n" not in f.name for f in files)
    assert any(f.name.startswith("GET.v1___heartbeat.") for f in files)
    stats = pstats.Stats(str(files[0]))
    assert stats.total_calls > 0


def test_no_profiler_by_default(tmp_path) -> None:
    app = build_app({"profiler_dir": str(tmp_path)})
    assert not isinstance(app.app, ProfilerMiddleware)
    app.get("/v1/", status=200)
    assert list(tmp_path.iterdir()) == []


class ClosingBody:
    """A WSGI body that must be closed."""

    def __init__(self):
        self.closed = False

    def __iter__(self):
        yield b"hello "
        yield b"world"

    def close(self):
        self.closed = True


def test_the_profiler_consumes_and_closes_the_body(tmp_path) -> None:
    body = ClosingBody()

    def wsgi_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    middleware = ProfilerMiddleware(wsgi_app, str(tmp_path))
    statuses = []
    result = middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/"},
                        lambda status, headers: statuses.append(status))
    assert result == [b"hello ", b"world"]
    assert body.closed
    assert statuses == ["200 OK"]
    [profile] = tmp_path.iterdir()
    assert profile.name.startswith("GET.root.")
