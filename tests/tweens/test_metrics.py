"""statsd metrics: sent per view over real UDP when statsd_url is set; nothing otherwise."""

from __future__ import annotations

import socket

import pytest
from pyramid.interfaces import ITweens

from cliquetish.errors import ConfigurationError
from cliquetish.interfaces import IMetrics
from cliquetish.metrics import NoOpMetrics, StatsdMetrics, metric_name, watch_execution_time
from cliquetish.tweens import METRICS
from tests.tweens.apps import build_app


@pytest.fixture
def statsd_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    yield server
    server.close()


def received(server, count):
    return [server.recv(65535).decode() for _ in range(count)]


def test_a_timer_and_a_counter_per_view(statsd_server) -> None:
    port = statsd_server.getsockname()[1]
    app = build_app({"statsd_url": f"udp://127.0.0.1:{port}", "statsd_prefix": "api"})
    app.get("/v1/__heartbeat__", status=200)
    timer, counter = received(statsd_server, 2)
    assert timer.startswith("api.view.heartbeat.GET:") and timer.endswith("|ms")
    assert counter == "api.view.heartbeat.GET.200:1|c"
    app.get("/v1/nowhere", status=404)
    assert received(statsd_server, 2)[1] == "api.view.unmatched.GET.404:1|c"


def test_a_view_raising_is_counted_as_500(statsd_server) -> None:
    from tests.tweens.apps import add_plain_view

    def explode(request):
        raise RuntimeError("boom")

    port = statsd_server.getsockname()[1]
    app = build_app({"statsd_url": f"udp://127.0.0.1:{port}"}, lambda config: add_plain_view(
        config, "explode", "/explode", explode))
    app.get("/v1/explode", status=500)
    assert received(statsd_server, 2)[1] == "cliquetish.view.explode.GET.500:1|c"


def test_the_utility_is_a_no_op_without_statsd_url() -> None:
    app = build_app()
    metrics = app.app.registry.getUtility(IMetrics)
    assert isinstance(metrics, NoOpMetrics)
    with metrics.timer("anything"):
        metrics.count("anything")
    assert METRICS in [name for name, _ in app.app.registry.getUtility(ITweens).implicit()]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8125", "udp://", "udp://host:port"])
def test_a_bad_statsd_url_stops_start_up_naming_the_key(url) -> None:
    with pytest.raises(ConfigurationError) as raised:
        build_app({"statsd_url": url})
    assert raised.value.key == "statsd_url"


class Backend:
    def get(self, key):
        return f"value of {key}"

    def _private(self):
        return "untouched"


def test_watch_execution_time_times_public_methods(statsd_server) -> None:
    port = statsd_server.getsockname()[1]
    metrics = StatsdMetrics("127.0.0.1", port, "api")
    backend = watch_execution_time(Backend(), "storage", metrics)
    assert backend.get("k") == "value of k"
    [packet] = received(statsd_server, 1)
    assert packet.startswith("api.storage.get:") and packet.endswith("|ms")
    assert backend._private() == "untouched"
    assert backend.get.__name__ == "get"


def test_watch_execution_time_leaves_objects_alone_when_metrics_are_off() -> None:
    backend = Backend()
    get = backend.get
    assert watch_execution_time(backend, "storage", NoOpMetrics()) is backend
    assert backend.get == get
    assert "get" not in vars(backend)


def test_metric_names_never_carry_protocol_characters() -> None:
    assert metric_name("view", "a:b|c@d e/f", "GET") == "view.a_b_c_d_e_f.GET"
