"""Evaluate cases against every rule: plain data in, findings out.

    findings = evaluate(cases, now)          # cases: dicts as described in rules/facts.py

Each finding is one applicable rule for one case, with its outcome. `status` is the flag it raises
(`breached`, `at_risk`, `review`) or None (met, or a deadline not yet near).
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from rules.catalogue import BY_ID, FLAG_STATUS, SEVERITY, STORED_STATE
from rules.engine import RuleEngine, shared_engine
from rules.facts import BUILDERS, CaseView, routed, view
from rules.thresholds import DEFAULT, Thresholds

UTC = timezone.utc


@dataclass
class Finding:
    case_no: str
    rule_id: str
    outcome: str
    due_at: datetime | None = None
    warn_at: datetime | None = None
    fulfilled_at: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def clause(self) -> str:
        return BY_ID[self.rule_id].clause

    @property
    def status(self) -> str | None:
        return FLAG_STATUS.get(self.outcome)

    @property
    def state(self) -> str:
        return STORED_STATE[self.outcome]


def _dt(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _evidence(rule_id: str, outcome: str, fact: dict, v: CaseView) -> dict[str, Any]:
    rule = BY_ID[rule_id]
    ev: dict[str, Any] = {}
    if rule.kind == "deadline":  # due and fulfilment times are stored in their own columns
        if rule_id == "SLA-PROGRESS":
            ev["interval_s"] = fact["int"]
            ev["longest_gap_s"] = fact["gap"]
        return ev
    if rule_id in ("REC-ACCEPTANCE", "REC-TRANSFER"):
        fields = (("description", "true_reason", "customer_demand", "promised_reply_at", "items_confirmed")
                  if rule_id == "REC-ACCEPTANCE" else
                  ("event_restoration", "customer_demand", "existing_problem", "solution_measures"))
        ev["missing"] = [f for f in fields if fact.get(f"d_{f}") == 0]
    elif rule_id == "SAT-SURVEY" and fact.get("sv"):
        ev["survey"] = fact["sv_at"]
        ev["closed"] = fact["cl_at"]
    elif rule_id == "SCOPE-GROUND":
        ev["reason"] = fact["rej_reason"]
    return ev


def _field(fact: dict, rule_id: str, name: str) -> Any:
    """A deadline's field, whether it has a fact of its own (`due`) or lives in a larger one (`sn_due`)."""
    return fact.get(name) if "dl" in fact else fact.get(f"{BY_ID[rule_id].prefix}_{name}")


def _finding(case_no: str, rule_id: str, outcome: str, fact: dict, v: CaseView) -> Finding:
    rule = BY_ID[rule_id]
    f = Finding(case_no, rule_id, outcome, evidence=_evidence(rule_id, outcome, fact, v))
    if rule.kind == "deadline":
        f.due_at = _dt(_field(fact, rule_id, "due"))
        f.warn_at = _dt(_field(fact, rule_id, "warn"))
        f.fulfilled_at = _dt(_field(fact, rule_id, "at"))
    return f


def evaluate(cases: Sequence[dict], now: datetime, thresholds: Thresholds = DEFAULT,
             engine: RuleEngine | None = None) -> list[Finding]:
    """Findings for every applicable rule of every case received at or before `now`."""
    engine = engine or shared_engine()
    now_s = int(now.timestamp())
    views: list[CaseView | None] = [view(c, now_s) for c in cases]
    facts: dict[str, dict[str, dict]] = {concern: {} for concern in BUILDERS}
    for i, v in enumerate(views):
        if v is None:
            continue
        for concern in routed(v):
            built = BUILDERS[concern](v, thresholds)
            for fact in built if isinstance(built, list) else [built]:
                fact["id"] = f"c{i}.{fact['dl']}" if "dl" in fact else f"c{i}.{concern[0]}"
                facts[concern][fact["id"]] = fact
    best: dict[tuple[str, str], tuple[str, str]] = {}
    for concern, by_id in facts.items():
        if not by_id:
            continue
        for fact_id, rule_id, outcome in engine.run(concern, list(by_id.values())):
            key = (fact_id, rule_id)
            if key not in best or SEVERITY[outcome] > SEVERITY[best[key][0]]:
                best[key] = (outcome, concern)
    findings: list[Finding] = []
    for (fact_id, rule_id), (outcome, concern) in best.items():
        i = int(fact_id[1:].split(".")[0])
        v = views[i]
        findings.append(_finding(cases[i]["case_no"], rule_id, outcome, facts[concern][fact_id], v))
    findings.sort(key=lambda f: (f.case_no, f.rule_id))
    return findings


def flags(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.status]


_SHARED_CASES: Sequence[dict] = ()


def _pack(f: Finding) -> tuple:
    ts = lambda d: None if d is None else int(d.timestamp())  # noqa: E731
    return (f.case_no, f.rule_id, f.outcome, ts(f.due_at), ts(f.warn_at), ts(f.fulfilled_at), f.evidence or None)


def _unpack(t: tuple) -> Finding:
    return Finding(t[0], t[1], t[2], _dt(t[3]), _dt(t[4]), _dt(t[5]), t[6] or {})


def _worker(args: tuple[int, int, datetime, Thresholds]) -> list[tuple]:
    """Runs in a forked worker: the cases are inherited from the parent (not pickled), and findings go
    back as plain tuples of numbers and strings (cheap to pickle)."""
    start, stop, now, thresholds = args
    return [_pack(f) for f in evaluate(_SHARED_CASES[start:stop], now, thresholds, engine=_process_engine())]


def _worker_start(parent: int) -> None:
    """First thing in every forked worker. A worker must not outlive the process that forked it, nor keep
    that process's database connections open: a killed import would otherwise leave orphans holding the
    socket, and the server would never see the client go (its transaction and lock would stay)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the kernel kills us when the parent dies
    except (OSError, AttributeError):  # not Linux: the parent check below still stops a late start
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    _close_inherited_sockets()


def _close_inherited_sockets() -> None:
    """Close every socket inherited from the parent (database connections); the worker talks to the
    parent only through pipes, which are not sockets."""
    import stat

    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            continue


def bulk_chunk() -> int:
    """Cases per worker task in bulk evaluations (and the size above which a bulk job forks workers)."""
    return int(os.environ.get("COMPLAINTS_BULK_CHUNK", "25000"))


_engine_in_worker: RuleEngine | None = None


def _process_engine() -> RuleEngine:
    global _engine_in_worker
    if _engine_in_worker is None:
        _engine_in_worker = RuleEngine()
    return _engine_in_worker


def evaluate_parallel(cases: Sequence[dict], now: datetime, thresholds: Thresholds = DEFAULT,
                      workers: int | None = None, chunk: int | None = None) -> list[Finding]:
    """The same as `evaluate`, spread over forked worker processes (bulk jobs: one engine per process)."""
    global _SHARED_CASES
    workers = workers or min(os.cpu_count() or 1, 4)
    chunk = chunk or bulk_chunk()
    if workers <= 1 or len(cases) <= chunk:
        return evaluate(cases, now, thresholds)
    import multiprocessing

    _SHARED_CASES = cases
    try:
        parts = [(i, min(i + chunk, len(cases)), now, thresholds) for i in range(0, len(cases), chunk)]
        ctx = multiprocessing.get_context("fork")
        out: list[Finding] = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_start,
                                 initargs=(os.getpid(),)) as pool:
            for part in pool.map(_worker, parts):
                out.extend(_unpack(t) for t in part)
    finally:
        _SHARED_CASES = ()
    out.sort(key=lambda f: (f.case_no, f.rule_id))
    return out
