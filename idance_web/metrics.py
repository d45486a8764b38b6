"""``/metrics``: the app's figures in the Prometheus text format, from configured addresses only.

Each app has a registry of its own (a process may build several apps; tests build many).
Requests are counted and timed by endpoint (the route's name, never the path), method (one of
HTTP's own, any other as ``OTHER``) and status, so the number of series stays bounded whatever
clients send. The rest is read when scraped: database round trips and
their time (``Database.query_count``/``query_seconds``), render-cache hits and misses, the job
queue by state, open live streams (``app.extensions["idance.live"].count()``), and whether
the hub and the in-process job worker run.

Other parts add a gauge with ``register_gauge(name, documentation, fn)``, ``fn(app) -> float``
read at each scrape.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Callable

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (CollectorRegistry, Counter, Histogram, disable_created_metrics,
                               generate_latest)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from .config import metrics_networks

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

disable_created_metrics()  # a `_created` series per label set is noise to a scraper
# gunicorn passes any upper-case token of 3-20 characters as a method: labelled as it came,
# each one a client invents would add series (and memory) for good.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_GAUGES: dict[str, tuple[str, Callable[[Flask], float]]] = {}


def register_gauge(name: str, documentation: str, fn: Callable[[Flask], float]) -> None:
    """Report ``fn(app)`` as the gauge ``name`` at every scrape (a later call replaces it)."""
    _GAUGES[name] = (documentation, fn)


class Metrics:
    """One app's registry and request instruments."""

    def __init__(self, app: Flask):
        self.app = app
        self.registry = CollectorRegistry()
        self.requests = Counter("idance_http_requests", "Requests answered.",
                                ["endpoint", "method", "status"], registry=self.registry)
        self.duration = Histogram("idance_http_request_duration_seconds",
                                  "Time to answer a request (to its first byte for a stream).",
                                  ["endpoint", "status"], registry=self.registry)
        self.registry.register(_Scraped(self))
        self._series: dict[tuple, tuple] = {}  # labels → (counter, histogram): skips their checks

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        key = (endpoint, method, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (self.requests.labels(endpoint, method, str(status)),
                                          self.duration.labels(endpoint, str(status)))
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Scraped:
    """Figures read from the app's parts when scraped."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self):
        return []  # nothing to check at registration; names are fixed below

    def collect(self):
        app = self.metrics.app
        ext = app.extensions
        db = ext["idance.db"]
        yield CounterMetricFamily("idance_db_queries", "Query batches sent to the database.",
                                  value=db.query_count)
        yield CounterMetricFamily("idance_db_reconnects", "Server connections opened again "
                                  "after one was lost.", value=db.reconnects)
        yield CounterMetricFamily("idance_db_query_seconds",
                                  "Time spent waiting for the database.",
                                  value=getattr(db, "query_seconds", 0.0))
        cache = ext.get("idance.public_cache")
        if cache is not None:
            yield CounterMetricFamily("idance_render_cache_hits", "Public pages served from "
                                      "the render cache.", value=cache.pages.hits)
            yield CounterMetricFamily("idance_render_cache_misses", "Public pages rendered "
                                      "because the cache held none.", value=cache.pages.misses)
            yield GaugeMetricFamily("idance_render_cache_entries", "Pages in the render cache.",
                                    value=len(cache.pages))
        yield GaugeMetricFamily("idance_open_streams", "Open live streams (/events).",
                                value=_open_streams(app))
        hub, worker = ext.get("idance.hub"), ext.get("idance.worker")
        yield GaugeMetricFamily("idance_hub_running", "1 while the real-time hub follows the "
                                "change feed.", value=int(bool(hub and hub.running)))
        yield GaugeMetricFamily("idance_job_worker_running", "1 while this process runs a job "
                                "worker thread.",
                                value=int(bool(worker and worker._thread
                                               and worker._thread.is_alive())))
        yield from _jobs(db)
        for name, (documentation, fn) in list(_GAUGES.items()):
            try:
                value = float(fn(app))
            except Exception:  # one broken figure must not cost the others
                log.exception("metric %s could not be read", name)
                continue
            yield GaugeMetricFamily(name, documentation, value=value)


def _open_streams(app: Flask) -> int:
    count = getattr(app.extensions.get("idance.live"), "count", None)
    return int(count()) if callable(count) else 0


def _jobs(db):
    from .db import DatabaseError
    from .errors import AppError
    from .jobs import counts

    up = GaugeMetricFamily("idance_database_up", "1 when the database answered this scrape.")
    try:
        by_state = counts(db)
    except (DatabaseError, AppError, RuntimeError, OSError) as exc:
        log.warning("metrics: the job queue could not be read: %s", exc)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    jobs = GaugeMetricFamily("idance_jobs", "Background jobs by state.", labels=["state"])
    for state, number in by_state.items():
        jobs.add_metric([state], number)
    yield jobs


@bp.get("/metrics")
def show():
    """The Prometheus text; 403 unless the peer is in ``IDANCE_METRICS_ALLOW``."""
    allowed = current_app.extensions["idance.metrics_allow"]
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        abort(403)
    if peer.version == 6 and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    if not any(peer.version == n.version and peer in n for n in allowed):
        abort(403)
    body = current_app.extensions["idance.metrics"].render()
    return Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4,
                    headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> Metrics:
    """Give ``app`` its registry, time its requests and serve ``/metrics``."""
    metrics = app.extensions["idance.metrics"] = Metrics(app)
    app.extensions["idance.metrics_allow"] = metrics_networks(app.config["IDANCE"].metrics_allow)

    @app.before_request
    def start_timer():
        g.metrics_start = time.perf_counter()

    @app.after_request
    def count(response):
        started = g.get("metrics_start")
        if started is not None:
            rule = request.url_rule
            metrics.observe(rule.endpoint if rule else "none", request.method,
                            response.status_code, time.perf_counter() - started)
        return response

    app.register_blueprint(bp)
    return metrics
