"""``/metrics``: the Prometheus text of one app, and only for configured addresses."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from idance_web import create_app, metrics
from idance_web.config import ConfigError
from idance_web.jobs import enqueue
from tests.fixtures.app import build_app, make_config


def scrape(client, **kw) -> dict[tuple, float]:
    """Every sample as {(name, sorted labels): value}."""
    response = client.get("/metrics", **kw)
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_requests_are_counted_and_timed_by_endpoint_and_status(client):
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page")
    client.get("/@nobody-here")
    samples = scrape(client)
    ok = (("endpoint", "health.show"), ("method", "GET"), ("status", "200"))
    assert samples[("idance_http_requests_total", ok)] == 3
    assert samples[("idance_http_requests_total",
                    (("endpoint", "none"), ("method", "GET"), ("status", "404")))] == 1
    assert samples[("idance_http_request_duration_seconds_count",
                    (("endpoint", "health.show"), ("status", "200")))] == 3
    assert samples[("idance_http_request_duration_seconds_sum",
                    (("endpoint", "health.show"), ("status", "200")))] > 0
    # Paths never become labels: the number of series stays bounded.
    assert not any("nobody-here" in str(labels) for _, labels in samples)


def test_methods_a_client_invents_share_one_series(app, client):
    for n in range(40):
        assert client.open("/healthz", method=f"INVENTED{n}").status_code == 405
    client.open("/healthz", method="PROPFIND")
    client.get("/healthz")
    samples = scrape(client)
    methods = {dict(labels)["method"] for name, labels in samples
               if name == "idance_http_requests_total"}
    assert methods == {"GET", "OTHER"}
    assert samples[("idance_http_requests_total", (("endpoint", "none"),  # 405: no rule matched
                                                   ("method", "OTHER"), ("status", "405")))] == 41
    assert len(app.extensions["idance.metrics"]._series) <= 3  # no series kept per method


def test_database_cache_jobs_and_streams_are_reported(app, client):
    db = app.extensions["idance.db"]
    before = scrape(client)
    pages = app.extensions["idance.public_cache"].pages
    pages.get(("test", "missing"))
    pages.put(("test", "page"), b"<p>hi</p>", ["site:x"])
    pages.get(("test", "page"))
    with db.worker() as s:
        enqueue(s, "metrics-test", {})
        enqueue(s, "metrics-test", {})
    metrics.register_gauge("idance_test_figure", "A figure for the test.", lambda a: 7)
    try:
        after = scrape(client)
    finally:
        metrics._GAUGES.pop("idance_test_figure")
    assert after[("idance_db_queries_total", ())] > before[("idance_db_queries_total", ())]
    assert after[("idance_db_query_seconds_total", ())] > 0
    assert after[("idance_render_cache_misses_total", ())] == \
        before[("idance_render_cache_misses_total", ())] + 1
    assert after[("idance_render_cache_hits_total", ())] == \
        before[("idance_render_cache_hits_total", ())] + 1
    assert after[("idance_render_cache_entries", ())] == 1
    assert after[("idance_jobs", (("state", "queued"),))] == 2
    assert after[("idance_database_up", ())] == 1
    assert after[("idance_test_figure", ())] == 7
    assert after[("idance_hub_running", ())] == 0  # tests poll the hub by hand


def test_open_streams_are_read_from_the_live_streams_when_the_app_has_them(app, client):
    class Live:
        def count(self):
            return 12

    app.extensions["idance.live"] = Live()
    assert scrape(client)[("idance_open_streams", ())] == 12


def test_each_app_counts_its_own_requests(client):
    other = build_app(make_config())
    try:
        client.get("/healthz")
        samples = scrape(other.test_client())
        assert not any(name == "idance_http_requests_total" and
                       ("endpoint", "health.show") in labels for name, labels in samples)
    finally:
        other.extensions["idance.db"].close()


def test_a_database_that_does_not_answer_leaves_the_other_figures():
    app = create_app(make_config(db_url="ws://127.0.0.1:9/rpc"))
    samples = scrape(app.test_client())
    assert samples[("idance_database_up", ())] == 0
    assert ("idance_db_queries_total", ()) in samples


@pytest.mark.parametrize("peer, allowed", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.7", False), ("203.0.113.5", False), ("::2", False), ("0.0.0.1", False),
])
def test_only_loopback_reads_metrics_by_default(client, peer, allowed):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert b"idance_" not in response.data


def test_configured_addresses_may_read_metrics_and_no_others():
    app = build_app(make_config(metrics_allow="10.0.0.0/8, 192.0.2.9"))
    client = app.test_client()
    try:
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.10"}
                          ).status_code == 403
        assert client.get("/metrics").status_code == 403  # loopback is no longer listed
    finally:
        app.extensions["idance.db"].close()


def test_behind_a_trusted_proxy_the_forwarded_client_is_checked():
    app = build_app(make_config(trusted_proxies=1))
    client = app.test_client()
    try:
        forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        assert forwarded.status_code == 403  # the proxy itself is on loopback
        assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}
                          ).status_code == 200
    finally:
        app.extensions["idance.db"].close()


def test_a_malformed_allow_list_is_refused_by_name():
    with pytest.raises(ConfigError, match="IDANCE_METRICS_ALLOW.*'10.0.0.0/33'"):
        make_config(metrics_allow="127.0.0.1,10.0.0.0/33").validate()
