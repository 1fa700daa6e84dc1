"""Evaluate cases against every rule: plain data in, findings out.

    findings = evaluate(cases, now)          # cases: dicts as described in rules/facts.py

Each finding is one applicable rule for one case, with its outcome. `status` is the flag it raises
(`breached`, `at_risk`, `review`) or None (met, or a deadline not yet near).
"""
from __future__ import annotations

import gc
import os
import threading
from array import array
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, NamedTuple, Sequence

from rules.catalogue import BY_ID, FLAG_STATUS, SEVERITY, STORED_STATE
from rules.engine import RuleEngine, shared_engine
from rules.episodes import spans
from rules.facts import ACCEPTANCE_MARKS, TRANSFER_MARKS, Deadline, case_fact
from rules.thresholds import DEFAULT, Thresholds

UTC = timezone.utc


NO_EVIDENCE: dict[str, Any] = {}  # shared, never mutated


class Finding(NamedTuple):
    """One applicable rule of one case and its outcome. Times are epoch seconds (`due`, `warn`, `at`; cheap
    to build and to send between processes by the million); `due_at`, `warn_at` and `fulfilled_at` give them
    as aware datetimes."""

    case_no: str
    rule_id: str
    outcome: str
    due: int | None = None
    warn: int | None = None
    at: int | None = None
    evidence: dict[str, Any] = NO_EVIDENCE

    @property
    def due_at(self) -> datetime | None:
        return _dt(self.due)

    @property
    def warn_at(self) -> datetime | None:
        return _dt(self.warn)

    @property
    def fulfilled_at(self) -> datetime | None:
        return _dt(self.at)

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


def _check_evidence(rule_id: str, fact: dict, case: dict) -> dict[str, Any]:
    """What a check rule's finding shows besides its outcome (from the fact the rule matched)."""
    if rule_id == "REC-ACCEPTANCE":
        return {"missing": [name for key, name in ACCEPTANCE_MARKS.items() if fact.get(key) == 0]}
    if rule_id == "REC-TRANSFER":
        return {"missing": [name for key, name in TRANSFER_MARKS.items() if fact.get(key) == 0]}
    if rule_id == "SAT-SURVEY" and fact.get("sv"):
        closed = int(case["closed_at"].timestamp())
        return {"survey": closed + fact["sc"], "closed": closed}
    if rule_id == "SCOPE-GROUND":
        return {"reason": fact["rr"]}
    return NO_EVIDENCE


def facts_of(cases: Sequence[dict], now_s: int, thresholds: Thresholds) -> tuple[list[dict], list[tuple[int, list[Deadline]]]]:
    """One fact per case received by `now_s`, and beside each the case's position and applicable deadlines."""
    facts: list[dict] = []
    owners: list[tuple[int, list[Deadline]]] = []
    for i, c in enumerate(cases):
        built = case_fact(c, now_s, thresholds)
        if built is not None:
            facts.append(built[0])
            owners.append((i, built[1]))
    return facts, owners


RULE_IDS = tuple(sorted(BY_ID))
RULE_CODE = {rule_id: k for k, rule_id in enumerate(RULE_IDS)}
OUTCOMES = tuple(SEVERITY)
OUTCOME_CODE = {outcome: k for k, outcome in enumerate(OUTCOMES)}
NONE = -(2 ** 63)  # "no time" in the time columns
SLICE = 50_000  # cases whose facts are built and run at once


FAR = 253370764800  # 9999-01-01 UTC: "not yet" in the episodes' range conditions


class Spans:
    """Deadline episodes in columns (see `Outcomes.spans`)."""

    __slots__ = ("pos", "rule", "active_from", "due", "warn", "pending_until", "open_until")

    def __init__(self) -> None:
        self.pos = array("l")
        self.rule = array("B")
        for name in self.__slots__[2:]:
            setattr(self, name, array("q"))

    def __len__(self) -> int:
        return len(self.pos)

    def add(self, pos: int, case: dict, thresholds: Thresholds) -> None:
        """The episodes of one case. Pending until it is fulfilled or the episode ends; open (someone can
        still act) until then or until the case closes, except the archive deadline, which starts there."""
        closed_at = case.get("closed_at")
        closed = FAR if closed_at is None else int(closed_at.timestamp())
        archive = RULE_CODE["ARC-ARCHIVE"]
        for rule_id, start, until, due, warn, done in spans(case, thresholds):
            pending = min(FAR if done is None else done, FAR if until is None else until)
            code = RULE_CODE[rule_id]
            self.pos.append(pos)
            self.rule.append(code)
            self.active_from.append(start)
            self.due.append(due)
            self.warn.append(warn)
            self.pending_until.append(pending)
            self.open_until.append(pending if code == archive else min(pending, closed))


class Outcomes:
    """Every finding of an evaluation in columns: the position of its case in the evaluated list, rule and
    outcome codes, due / warn / fulfilled epoch seconds (`NONE` for none) and, for the few that have it,
    evidence by row. A bulk evaluation moves these between processes as flat arrays (a memory copy, where
    half a million finding objects took seconds to send and rebuild) and stores them without building a
    `Finding` per row. Rows are in case order; within a case, deadlines first."""

    __slots__ = ("pos", "rule", "outcome", "due", "warn", "at", "evidence", "spans", "extra")
    COLUMNS = ("pos", "rule", "outcome", "due", "warn", "at")

    def __init__(self) -> None:
        self.pos = array("l")
        self.rule = array("B")
        self.outcome = array("B")
        self.due = array("q")
        self.warn = array("q")
        self.at = array("q")
        self.evidence: dict[int, dict[str, Any]] = {}
        # The deadline episodes (rules/episodes.py) when asked for, for the replay table: per episode the
        # case position, rule code, active from, due, warn, pending until, open until (FAR: not yet).
        self.spans = Spans()
        # What a caller's `finish` function made of these outcomes where they were computed (lists by name,
        # concatenated when parts are joined); rules/ never looks inside.
        self.extra: dict[str, list] = {}

    def __len__(self) -> int:
        return len(self.pos)

    def extend(self, other: "Outcomes") -> None:
        base = len(self.pos)
        for name in self.COLUMNS:
            getattr(self, name).extend(getattr(other, name))
        self.evidence.update({base + k: v for k, v in other.evidence.items()})
        for name in Spans.__slots__:
            getattr(self.spans, name).extend(getattr(other.spans, name))
        for name, items in other.extra.items():
            self.extra.setdefault(name, []).extend(items)

    def findings(self, cases: Sequence[dict]) -> list[Finding]:
        """As `Finding`s, sorted by case number then rule id."""
        with _paused_gc(len(self.pos)):
            return self._findings(cases)

    def _findings(self, cases: Sequence[dict]) -> list[Finding]:
        out = []
        evidence = self.evidence
        for k, (pos, rule, outcome, due, warn, at) in enumerate(
                zip(self.pos, self.rule, self.outcome, self.due, self.warn, self.at)):
            out.append(Finding(cases[pos]["case_no"], RULE_IDS[rule], OUTCOMES[outcome],
                               None if due == NONE else due, None if warn == NONE else warn,
                               None if at == NONE else at, evidence.get(k, NO_EVIDENCE)))
        out.sort(key=lambda f: (f.case_no, f.rule_id))
        return out


def evaluate(cases: Sequence[dict], now: datetime, thresholds: Thresholds = DEFAULT,
             engine: RuleEngine | None = None) -> list[Finding]:
    """Findings for every applicable rule of every case received at or before `now`: every applicable
    deadline (met and pending included) and every check rule that raised something. Sorted by case number,
    then rule id."""
    return evaluate_outcomes(cases, now, thresholds, engine).findings(cases)


def evaluate_outcomes(cases: Sequence[dict], now: datetime, thresholds: Thresholds = DEFAULT,
                      engine: RuleEngine | None = None, offset: int = 0, with_spans: bool = False) -> Outcomes:
    """The same findings in columns (`Outcomes`); case positions are counted from `offset`. `with_spans`:
    also every deadline episode of every case (not as of `now`: the whole history there is)."""
    engine = engine or shared_engine()
    with _paused_gc(len(cases)):
        # in slices, so that only one slice's facts exist at a time (a million facts are ~1 GB)
        out = Outcomes()
        for start in range(0, len(cases), SLICE):
            part = _evaluate(cases[start:start + SLICE], now, thresholds, engine, offset + start)
            if start == 0:
                out = part
            else:
                out.extend(part)
        if with_spans:
            for i, case in enumerate(cases):
                out.spans.add(offset + i, case, thresholds)
        return out


def _evaluate(cases: Sequence[dict], now: datetime, thresholds: Thresholds, engine: RuleEngine,
              offset: int) -> Outcomes:
    facts, owners = facts_of(cases, int(now.timestamp()), thresholds)
    # The engine returns only flags; several variants of one rule (two missing fields, say) are merged by
    # severity. An applicable deadline that raised nothing is met when fulfilled and pending otherwise.
    fired: dict[int, dict[str, str]] = {}
    for pos, rule_id, outcome in engine.run(facts):
        per_case = fired.get(pos)
        if per_case is None:
            fired[pos] = {rule_id: outcome}
            continue
        known = per_case.get(rule_id)
        if known is None or SEVERITY[outcome] > SEVERITY[known]:
            per_case[rule_id] = outcome
    out = Outcomes()
    add_pos, add_rule, add_outcome = out.pos.append, out.rule.append, out.outcome.append
    add_due, add_warn, add_at = out.due.append, out.warn.append, out.at.append
    evidence = out.evidence
    met, pending = OUTCOME_CODE["met"], OUTCOME_CODE["pending"]
    progress = RULE_CODE["SLA-PROGRESS"]
    for fact_pos, (i, deadlines) in enumerate(owners):
        flagged = fired.get(fact_pos)
        for rule_id, due, warn, at, gap, interval in deadlines:
            outcome = flagged.pop(rule_id, None) if flagged else None
            code = RULE_CODE[rule_id]
            if code == progress:
                evidence[len(out.pos)] = {"interval_s": interval, "longest_gap_s": gap}
            add_pos(offset + i)
            add_rule(code)
            add_outcome((met if at is not None else pending) if outcome is None else OUTCOME_CODE[outcome])
            add_due(due)
            add_warn(warn)
            add_at(NONE if at is None else at)
        if flagged:
            fact, case = facts[fact_pos], cases[i]
            for rule_id, outcome in flagged.items():
                found = _check_evidence(rule_id, fact, case)
                if found:
                    evidence[len(out.pos)] = found
                add_pos(offset + i)
                add_rule(RULE_CODE[rule_id])
                add_outcome(OUTCOME_CODE[outcome])
                add_due(NONE)
                add_warn(NONE)
                add_at(NONE)
    return out


@contextmanager
def _paused_gc(n: int) -> Iterator[None]:
    """Large evaluations allocate millions of small objects that all live to the end: the cyclic garbage
    collector would walk them again and again for nothing (a fifth of the time, measured). Pause it."""
    was_enabled = gc.isenabled()
    if n >= 2000 and was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if n >= 2000 and was_enabled:
            gc.enable()


def flags(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.status]


_SHARED_CASES: Sequence[dict] = ()


# A caller's last step on an evaluation's outcomes, run where they were computed (in the worker for a bulk
# evaluation): called with the outcomes, the whole case list and the offset of this part in it.
Finish = Callable[[Outcomes, Sequence[dict], int], None]


def _worker(args: tuple[int, int, datetime, Thresholds, bool, Finish | None]) -> Outcomes:
    """Runs in a forked worker: the cases are inherited from the parent (not pickled), and the outcomes go
    back as flat arrays (cheap to pickle)."""
    start, stop, now, thresholds, with_spans, finish = args
    out = evaluate_outcomes(_SHARED_CASES[start:stop], now, thresholds, _process_engine(), offset=start,
                            with_spans=with_spans)
    if finish is not None:
        with _paused_gc(stop - start):
            finish(out, _SHARED_CASES, start)
    return out


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
    gc.freeze()  # what the worker inherited (the cases) is never garbage: keep the collector off it


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
    return evaluate_parallel_outcomes(cases, now, thresholds, workers, chunk).findings(cases)


def evaluate_parallel_outcomes(cases: Sequence[dict], now: datetime, thresholds: Thresholds = DEFAULT,
                               workers: int | None = None, chunk: int | None = None,
                               with_spans: bool = False) -> Outcomes:
    """`evaluate_outcomes` spread over forked worker processes, for more cases than one chunk."""
    return start_evaluation(cases, now, thresholds, workers, chunk, with_spans).result()


_BULK = threading.Lock()


class PendingEvaluation:
    """An evaluation running in forked worker processes while the caller does something else (an import
    writes the cases and contacts meanwhile); `result()` waits for it. Small evaluations (one chunk or
    less) run in this process when `result()` is called."""

    def __init__(self, cases: Sequence[dict], now: datetime, thresholds: Thresholds, workers: int | None,
                 chunk: int | None, with_spans: bool = False, finish: Finish | None = None) -> None:
        global _SHARED_CASES
        self._cases, self._now, self._thresholds, self._spans = cases, now, thresholds, with_spans
        self._finish = finish
        workers = workers or min(os.cpu_count() or 1, 4)
        chunk = chunk or bulk_chunk()
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list = []
        self._held = False
        if workers <= 1 or len(cases) <= chunk:
            return
        import multiprocessing

        _BULK.acquire()  # one bulk evaluation at a time per process (two sessions may start one each)
        self._held = True
        _SHARED_CASES = cases  # inherited by the workers when they are forked (on the first submit)
        try:
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_worker_start, initargs=(os.getpid(),))
            self._futures = [self._pool.submit(_worker, (i, min(i + chunk, len(cases)), now, thresholds, with_spans,
                                                         finish))
                             for i in range(0, len(cases), chunk)]
        except BaseException:
            self._close()
            raise

    def _close(self) -> None:
        global _SHARED_CASES
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._held:
            self._held = False
            _SHARED_CASES = ()
            _BULK.release()

    def result(self) -> Outcomes:
        if not self._held:
            out = evaluate_outcomes(self._cases, self._now, self._thresholds, with_spans=self._spans)
            if self._finish is not None:
                self._finish(out, self._cases, 0)
            return out
        try:
            out = Outcomes()
            for future in self._futures:
                out.extend(future.result())
            return out
        finally:
            self._close()

    def cancel(self) -> None:
        self._close()


def start_evaluation(cases: Sequence[dict], now: datetime, thresholds: Thresholds = DEFAULT,
                     workers: int | None = None, chunk: int | None = None, with_spans: bool = False,
                     finish: Finish | None = None) -> PendingEvaluation:
    """Start evaluating in the background (see `PendingEvaluation`); `finish` (a module-level function, or a
    functools.partial of one, so that it can be sent to a worker) runs on each part where it was computed."""
    return PendingEvaluation(cases, now, thresholds, workers, chunk, with_spans, finish)
