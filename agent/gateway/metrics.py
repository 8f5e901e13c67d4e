"""Prometheus metrics of the gateway, with the ``prometheus-client`` library, at ``/metrics``
when ``gateway: {metrics: true}``: requests by provider and status, the latency the gateway
adds apart from the upstream's, retries, decisions by action, store errors, bytes observed,
limit hits. Labels are provider names, status codes, actions and limit names: never a key,
a path or a model string a client chose."""

from __future__ import annotations

import logging
import os
from typing import Any

from agent.errors import StoreError
from agent.gateway.access import Record

#: Where prometheus-client's multiprocess mode keeps the workers' counts (set by ``serve``
#: for ``--workers N`` unless the operator set it).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Seconds: the gateway's own share is usually under a millisecond, an upstream's up to
#: minutes.
_ADDED = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_UPSTREAM = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Metrics:
    """The gateway's metrics in their own registry (one per app)."""

    def __init__(self, providers: list[str]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.providers = set(providers)
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "agent_gateway_requests", "Requests answered", ["provider", "status"], registry=r
        )
        self.added = Histogram(
            "agent_gateway_added_seconds",
            "Time the gateway adds to a call (its answer's head out, minus upstream time)",
            ["provider"],
            buckets=_ADDED,
            registry=r,
        )
        self.upstream = Histogram(
            "agent_gateway_upstream_seconds",
            "Time waiting for the upstream until the answer's head went out",
            ["provider"],
            buckets=_UPSTREAM,
            registry=r,
        )
        self.retries = Counter(
            "agent_gateway_retries",
            "Calls retried after a thinking error",
            ["provider"],
            registry=r,
        )
        self.decisions = Counter(
            "agent_gateway_decisions", "The chain's decisions", ["provider", "action"], registry=r
        )
        self.store_errors = Counter(
            "agent_gateway_store_errors", "Thinking store reads or writes that failed", registry=r
        )
        self.observed = Counter(
            "agent_gateway_observed_bytes", "Answer bytes observed", ["provider"], registry=r
        )
        self.limits = Counter(
            "agent_gateway_limit_hits",
            "Requests or answers that reached a limit",
            ["limit"],
            registry=r,
        )
        logging.getLogger("agent").addHandler(_StoreErrors(self))

    def count(self, record: Record) -> None:
        """Count one finished request."""
        provider = record.provider if record.provider in self.providers else ""
        self.requests.labels(provider, str(record.status or 0)).inc()
        if record.answered_s is not None and record.upstream_status is not None and provider:
            upstream = record.upstream_s[0]
            self.upstream.labels(provider).observe(upstream)
            self.added.labels(provider).observe(
                max(0.0, record.answered_s - record.started - upstream)
            )
        if record.retried:
            self.retries.labels(provider).inc()
        for action, n in (record.decisions or {}).items():
            self.decisions.labels(provider, action).inc(n)
        if record.observing is not None and provider:
            self.observed.labels(provider).inc(record.observing.get("observed", 0))
        limit = record.limit or (record.observing or {}).get("stopped")
        if limit:
            self.limits.labels(limit).inc()

    def text(self) -> tuple[bytes, str]:
        """The exposition (body, content type): with several workers, every worker's counts
        added up (prometheus-client's multiprocess mode, which ``serve`` turns on)."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if not os.environ.get(MULTIPROCESS_ENV):
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        logger = logging.getLogger("agent")
        for handler in list(logger.handlers):
            if isinstance(handler, _StoreErrors) and handler.metrics is self:
                logger.removeHandler(handler)


class _StoreErrors(logging.Handler):
    """Counts the store's failures as the pipeline logs them (a read it treats as "not
    seen", a write that failed while observing)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.WARNING)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        failed: Any = record.exc_info[1] if record.exc_info else None
        if isinstance(failed, StoreError) or str(record.msg).startswith("thinking store"):
            self.metrics.store_errors.inc()
