"""Every Prometheus metric of Mimamori, defined here and nowhere else.

Two kinds: counters, histograms and a gauge recorded where things happen (a few increments per
batch, never per row), and gauges read from the database when a scrape comes (``DatabaseCollector``:
the outbox, the gates, the broadcasts under way). Labels are fixed words or numeric ids (channel,
kind, status, priority, result, gate id, site id, broadcast id), never personal data.

With ``[metrics] multiprocess_dir`` every process of a machine writes its counts to files there
(prometheus_client's multiprocess mode) and any one endpoint serves their sum; without it the
counts live in this process only.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from core.config import GateHealthSettings, Settings
from core.outage import is_database_outage

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Recorded metrics live in their own registry: the exposition is built from it (one process) or
# from the shared files (several), never from prometheus_client's global default registry.
RECORDED = CollectorRegistry(auto_describe=True)

OUTCOMES = Counter(
    "mimamori_delivery_outcomes",
    "Outcomes recorded, by channel, lane (the recipient's group: docomo, gmail, ...) and result "
    "(sent, retry, failed, expired).",
    ["channel", "lane", "result"],
    registry=RECORDED,
)
RETRIES = Counter(
    "mimamori_delivery_retries",
    "Deliveries claimed for another attempt (a retry or a lease taken over).",
    ["channel"],
    registry=RECORDED,
)
CLAIMED = Counter("mimamori_claimed_deliveries", "Deliveries claimed for sending.", ["channel"], registry=RECORDED)
CLAIM_SECONDS = Histogram(
    "mimamori_claim_duration_seconds",
    "How long one claim statement took (its count is the claims made).",
    ["channel"],
    registry=RECORDED,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
PASSAGE_LATENCY = Histogram(
    "mimamori_passage_notice_latency_seconds",
    "From the gate's detection of a passage to its notice's transport reporting it sent.",
    ["channel"],
    registry=RECORDED,
    buckets=(0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
LOGINS_FAILED = Counter(
    "mimamori_logins_failed", "Logins refused (unknown login ID or wrong password).", ["account"], registry=RECORDED
)
LOGINS_THROTTLED = Counter(
    "mimamori_logins_throttled",
    "Logins not tried because the account or client is being slowed down.",
    ["account"],
    registry=RECORDED,
)
PASSAGES = Counter(
    "mimamori_passages",
    "Passages recorded from the gates, by site and outcome.",
    ["site", "outcome"],
    registry=RECORDED,
)
# livemax: the mailbox is read by one process; a dead reader's value leaves with its files
IMAP_CONNECTED = Gauge(
    "mimamori_imap_connected",
    "1 while the inbound mail reader is connected and logged in.",
    registry=RECORDED,
    multiprocess_mode="livemax",
)

# Read from the database at scrape time by DatabaseCollector.
OUTBOX_DEPTH = "mimamori_outbox_depth"
OUTBOX_OLDEST = "mimamori_outbox_oldest_age_seconds"
LANE_WAITING = "mimamori_lane_waiting"
LANE_DEFERRED = "mimamori_lane_deferred"
LANE_OLDEST = "mimamori_lane_oldest_waiting_seconds"
GATE_HEARTBEAT_AGE = "mimamori_gate_heartbeat_age_seconds"
GATE_SPOOL_DEPTH = "mimamori_gate_spool_depth"
GATE_SCHOOL_HOURS = "mimamori_gate_school_hours"
BROADCAST_DELIVERIES = "mimamori_broadcast_deliveries"
BROADCAST_FANNING_OUT = "mimamori_broadcast_fanning_out"
DATABASE_UP = "mimamori_metrics_database_up"
SCRAPED = (
    OUTBOX_DEPTH,
    OUTBOX_OLDEST,
    LANE_WAITING,
    LANE_DEFERRED,
    LANE_OLDEST,
    GATE_HEARTBEAT_AGE,
    GATE_SPOOL_DEPTH,
    GATE_SCHOOL_HOURS,
    BROADCAST_DELIVERIES,
    BROADCAST_FANNING_OUT,
    DATABASE_UP,
)


def names() -> set[str]:
    """Every series name Mimamori exports (counters with their ``_total``, histograms' parts)."""
    found = set(SCRAPED)
    for metric in RECORDED.collect():
        found.update(sample.name for sample in metric.samples)
        if metric.type == "counter":
            found.add(f"{metric.name}_total")
        if metric.type == "histogram":
            found.update(f"{metric.name}_{part}" for part in ("bucket", "count", "sum"))
    return found


# ---- recording (cheap: called once per batch or per event) -------------------------------------


def outcomes_recorded(counts: Mapping[tuple[str, str, str], int]) -> None:
    """``counts``: (channel, lane, result) -> how many, for one batch of outcomes."""
    for (channel, lane, result), n in counts.items():
        OUTCOMES.labels(channel, lane, result).inc(n)


def passage_notices_sent(channel: str, latencies: Iterable[float]) -> None:
    histogram = PASSAGE_LATENCY.labels(channel)
    for seconds in latencies:
        histogram.observe(max(0.0, seconds))


def claimed(channel: str, rows: int, retries: int, seconds: float) -> None:
    CLAIM_SECONDS.labels(channel).observe(seconds)
    if rows:
        CLAIMED.labels(channel).inc(rows)
    if retries:
        RETRIES.labels(channel).inc(retries)


def login_failed(account: str) -> None:
    LOGINS_FAILED.labels(account).inc()


def login_throttled(account: str) -> None:
    LOGINS_THROTTLED.labels(account).inc()


def passage_recorded(site_id: int, outcome: str) -> None:
    PASSAGES.labels(str(site_id), outcome).inc()


def imap_connected(connected: bool) -> None:
    """The inbound mail reader says whether it is connected (call on every change)."""
    IMAP_CONNECTED.set(1 if connected else 0)


# ---- set-up ------------------------------------------------------------------------------------


def use_multiprocess_dir(directory: Path) -> None:
    """Write this process's counts under ``directory`` (created), after removing what dead
    processes left of their live gauges, as prometheus_client's multiprocess docs advise.

    Dead processes' counters and histograms stay: their totals are part of the sum, and removing
    them would make the sum fall, which Prometheus takes for a counter reset (a false spike in
    ``rate()``). Put the directory on a tmpfs (``RuntimeDirectory=`` of systemd) so a boot wipes it.
    Once per process: a second value class would map the same files twice and overwrite them.
    """
    global _multiprocess_dir
    if _multiprocess_dir is not None:
        if _multiprocess_dir != directory:
            raise RuntimeError(f"metrics already go to {_multiprocess_dir}, not {directory}")
        return
    _multiprocess_dir = directory
    directory.mkdir(parents=True, exist_ok=True)
    for pid in _pids_with_files(directory):
        if not _alive(pid):
            mark_process_dead(pid, str(directory))
    os.environ[MULTIPROC_ENV] = str(directory)
    # prometheus_client chose its value class when it was imported (from the environment then);
    # every labelled child made from now on writes to the files. IMAP_CONNECTED, the one metric
    # without labels, made its value at import: make it again.
    values.ValueClass = values.get_value_class()
    IMAP_CONNECTED._metric_init()


_multiprocess_dir: Path | None = None


def _pids_with_files(directory: Path) -> set[int]:
    return {int(m.group(1)) for f in directory.glob("*.db") if (m := re.search(r"_(\d+)\.db$", f.name))}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def scrape_registry(collector: DatabaseCollector) -> CollectorRegistry:
    """What one scrape shows: the recorded counts (this process's, or every process's) and the
    database's state, read by ``collector``."""
    directory = os.environ.get(MULTIPROC_ENV)
    registry = CollectorRegistry()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Forward(RECORDED))
    registry.register(collector)
    return registry


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


# ---- read from the database at scrape time -----------------------------------------------------


@dataclass
class Snapshot:
    """The database's side of one scrape: plain numbers, so collect() needs no database."""

    outbox: list[tuple[str, str, str, int, int]] = field(default_factory=list)  # channel kind status prio n
    oldest: dict[tuple[str, str], float] = field(default_factory=dict)  # (channel, kind) -> age
    gates: list[tuple[int, int, float | None, int | None, bool]] = field(default_factory=list)
    broadcasts: list[tuple[int, str, int]] = field(default_factory=list)  # id, status, n
    drills: set[int] = field(default_factory=set)  # which of the broadcasts under way are drills (訓練)
    fanning_out: list[int] = field(default_factory=list)
    lanes: list[tuple[str, str, int, int, float | None]] = field(default_factory=list)  # waiting, deferred, age


class DatabaseCollector(Collector):
    """Gauges read from the database: ``await refresh()`` before each scrape, then ``collect()``.

    If the database is away (or a query fails), the scrape shows ``mimamori_metrics_database_up 0``
    and none of these gauges; it is logged once per outage and never raised.
    """

    def __init__(self, settings: Settings) -> None:
        self._hours = settings.gate_health
        self._snapshot: Snapshot | None = None
        self._failing = False

    async def refresh(self, *, now: datetime | None = None) -> None:
        try:
            self._snapshot = await read_snapshot(self._hours, now or datetime.now(UTC))
        except Exception as exc:  # a scrape must never fail for the database's sake
            self._snapshot = None
            if not self._failing:
                self._failing = True
                if is_database_outage(exc):
                    log.warning("metrics: the database is away; its gauges are left out until it is back")
                else:
                    log.exception("metrics: reading the database's gauges failed")
            return
        if self._failing:
            self._failing = False
            log.info("metrics: the database's gauges are back")

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(DATABASE_UP, "1 when this scrape could read the database's gauges.")
        up.add_metric([], 0 if self._snapshot is None else 1)
        yield up
        if self._snapshot is not None:
            yield from _families(self._snapshot)


def _families(snap: Snapshot) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        OUTBOX_DEPTH, "Notices queued or sending in the outbox.", labels=["channel", "kind", "status", "priority"]
    )
    for channel, kind, status, priority, n in snap.outbox:
        depth.add_metric([channel, kind, status, str(priority)], n)
    oldest = GaugeMetricFamily(
        OUTBOX_OLDEST, "Age of the oldest notice not yet sent (queued or sending).", labels=["channel", "kind"]
    )
    for (channel, kind), age in snap.oldest.items():
        oldest.add_metric([channel, kind], age)
    yield from _lane_families(snap)
    heartbeat = GaugeMetricFamily(
        GATE_HEARTBEAT_AGE, "Seconds since the gate's last heartbeat.", labels=["gate", "site"]
    )
    spool = GaugeMetricFamily(
        GATE_SPOOL_DEPTH, "Passages the gate holds unsent, as of its last heartbeat.", labels=["gate", "site"]
    )
    hours = GaugeMetricFamily(
        GATE_SCHOOL_HOURS, "1 while it is school hours at the gate's site.", labels=["gate", "site"]
    )
    for gate, site, silent_for, depth_, school_hours in snap.gates:
        labels = [str(gate), str(site)]
        if silent_for is not None:
            heartbeat.add_metric(labels, silent_for)
        if depth_ is not None:
            spool.add_metric(labels, depth_)
        hours.add_metric(labels, 1 if school_hours else 0)
    # A drill is labelled as one, so that sums and alerts over real broadcasts can leave drills out.
    progress = GaugeMetricFamily(
        BROADCAST_DELIVERIES,
        "Deliveries of a broadcast under way, by status (drill: 1 for a drill, 0 for a real alert).",
        labels=["broadcast", "status", "drill"],
    )
    for broadcast, status, n in snap.broadcasts:
        progress.add_metric([str(broadcast), status, _drill(broadcast, snap)], n)
    fanning = GaugeMetricFamily(
        BROADCAST_FANNING_OUT,
        "1 while a confirmed broadcast is still being fanned out (drill: 1 for a drill).",
        labels=["broadcast", "drill"],
    )
    for broadcast in snap.fanning_out:
        fanning.add_metric([str(broadcast), _drill(broadcast, snap)], 1)
    yield from (depth, oldest, heartbeat, spool, hours, progress, fanning)


def _drill(broadcast: int, snap: Snapshot) -> str:
    return "1" if broadcast in snap.drills else "0"


def _lane_families(snap: Snapshot) -> Iterator[Metric]:
    by = ["channel", "lane"]  # the recipient's group: docomo, au, softbank, gmail, other; "all" for a chat
    waiting = GaugeMetricFamily(LANE_WAITING, "Notices queued or sending, by recipient group.", labels=by)
    deferred = GaugeMetricFamily(
        LANE_DEFERRED, "Notices queued again after a temporary failure, by recipient group.", labels=by
    )
    oldest = GaugeMetricFamily(LANE_OLDEST, "Age of the longest-waiting unsent notice, by recipient group.", labels=by)
    for channel, lane, n, n_deferred, age in snap.lanes:
        waiting.add_metric([channel, lane], n)
        deferred.add_metric([channel, lane], n_deferred)
        if age is not None:
            oldest.add_metric([channel, lane], age)
    yield from (waiting, deferred, oldest)


async def read_snapshot(hours: GateHealthSettings, now: datetime) -> Snapshot:
    """A few grouped queries over the unsent part of the outbox (an index covers it) and the
    gates; nothing scans the history of sent deliveries."""
    from core.db import as_datetime
    from core.delivery.summary import lane_counts
    from core.gate_health import in_school_hours
    from core.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Gate

    client = Delivery._meta.db
    snap = Snapshot()
    rows = await client.execute_query_dict(
        'SELECT channel, kind, status, priority, COUNT(*) AS n, MIN(queued_at) AS oldest FROM "delivery" '
        "WHERE status IN ('queued', 'sending') GROUP BY channel, kind, status, priority"
    )
    for row in rows:
        snap.outbox.append((row["channel"], row["kind"], row["status"], int(row["priority"]), int(row["n"])))
        age = (now - as_datetime(row["oldest"])).total_seconds()
        key = (row["channel"], row["kind"])
        snap.oldest[key] = max(snap.oldest.get(key, 0.0), age)
    for lane in await lane_counts(unsent_only=True):
        waited = (now - lane.oldest_waiting).total_seconds() if lane.oldest_waiting else None
        snap.lanes.append((lane.channel, lane.lane, lane.waiting, lane.deferred, waited))
    for gate in await Gate.filter(revoked_at__isnull=True).prefetch_related("site"):
        silent_for = (now - gate.last_heartbeat_at).total_seconds() if gate.last_heartbeat_at else None
        depth = (gate.health or {}).get("spool_depth")
        snap.gates.append(
            (
                gate.id,
                gate.site_id,
                silent_for,
                depth if isinstance(depth, int) else None,
                in_school_hours(now, gate.site, hours),
            )
        )
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    confirmed = await Broadcast.filter(status=BroadcastStatus.CONFIRMED).values_list("id", flat=True)
    snap.fanning_out = sorted(cast(list[int], confirmed))
    sending = cast(
        list[int],
        await Delivery.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING], broadcast_id__isnull=False)
        .distinct()
        .values_list("broadcast_id", flat=True),
    )
    under_way = sorted({*snap.fanning_out, *sending})
    if under_way:
        marks = ", ".join(str(int(b)) for b in under_way)
        counted = await client.execute_query_dict(
            f'SELECT broadcast_id, status, COUNT(*) AS n FROM "delivery" WHERE broadcast_id IN ({marks}) '
            "GROUP BY broadcast_id, status"
        )
        snap.broadcasts = [(int(r["broadcast_id"]), r["status"], int(r["n"])) for r in counted]
        drills = await Broadcast.filter(id__in=under_way, is_drill=True).values_list("id", flat=True)
        snap.drills = set(cast(list[int], drills))
    return snap
