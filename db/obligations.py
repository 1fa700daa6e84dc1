"""Stored obligations: evaluating cases from the database and keeping the results (with due times) so that
"what is at risk or breached now" is an indexed range query.

Every write happens inside the caller's transaction: a re-evaluation interrupted half-way leaves the
previous obligations in place.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

from sqlalchemy import and_, bindparam, delete, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.bulk import insert_rows
from db.session import refresh_statistics
from db.models import Case, Contact, DeadlineEpisode, DeadlineHour, Obligation, RejectionReview, Setting
from rules.catalogue import RULES_VERSION
from rules.episodes import episodes
from rules.evaluate import Finding, bulk_chunk, evaluate, evaluate_parallel
from rules.thresholds import DEFAULT, Thresholds

RULE_FIELDS = (
    "case_no", "received_at", "acceptance", "promised_reply_at", "rejection_reason", "rejection_informed_at",
    "transferred_to", "event_restoration", "existing_problem", "solution_measures", "dept_solution",
    "long_running_since", "progress_interval_hours", "decision", "survey_at", "satisfaction",
    "dissatisfaction_cause", "demand_excessive", "alternatives", "closed_at", "archived_at", "typical",
    "typical_summary", "description", "true_reason", "customer_demand", "items_confirmed",
)
CHUNK = 5000
HOUR_KEYS = ("hour", "rule_id", "state", "team_id", "category", "channel")
Progress = Callable[[int, int], None]


def thresholds(session: Session) -> Thresholds:
    rows = session.execute(select(Setting.key, Setting.value).where(Setting.key.like("threshold.%"))).all()
    return Thresholds.from_mapping({k.split(".", 1)[1]: v for k, v in rows}) if rows else DEFAULT


def save_thresholds(session: Session, values: Thresholds) -> None:
    for name, value in values.as_dict().items():
        key = f"threshold.{name}"
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=repr(value)))
        else:
            row.value = repr(value)


def _chunks(seq: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def load_cases(session: Session, case_ids: Sequence[int] | None = None,
               received_until: datetime | None = None) -> list[dict]:
    """Cases as the plain dicts rules/ expects (with `id` and `contacts`)."""
    cols = [Case.id, Case.team_id, Case.handler_id, Case.category, Case.channel] + [getattr(Case, f) for f in RULE_FIELDS]
    out: list[dict] = []
    id_lists: Iterable[Sequence[int] | None] = _chunks(list(case_ids)) if case_ids is not None else [None]
    for ids in id_lists:
        q = select(*cols)
        cq = select(Contact.case_id, Contact.contact_at, Contact.kind)
        if ids is not None:
            q = q.where(Case.id.in_(ids))
            cq = cq.where(Contact.case_id.in_(ids))
        if received_until is not None:
            q = q.where(Case.received_at <= received_until)
        contacts: dict[int, list] = defaultdict(list)
        for case_id, at, kind in session.execute(cq):
            contacts[case_id].append((at, kind))
        reviews = _reviews(session, ids)
        for row in session.execute(q):
            d = row._asdict()
            d["contacts"] = contacts.get(d["id"], [])
            d["reviewed_at"] = reviews.get(d["id"])
            out.append(d)
    return out


def _reviews(session: Session, ids: Sequence[int] | None) -> dict[int, datetime]:
    """When each rejected case's review was recorded (SCOPE-REJECTED is fulfilled from then on)."""
    q = select(RejectionReview.case_id, RejectionReview.reviewed_at)
    if ids is not None:
        q = q.where(RejectionReview.case_id.in_(ids))
    return dict(session.execute(q).all())


def _state(f: Finding, case: dict, evaluated_at: datetime) -> str:
    """How the finding is stored. A deadline already missed on a case that was closed when evaluated can
    only change if the case's data changes, which re-evaluates it: store it as breached for good, so that
    the board's "open" obligations are only those someone can still act on."""
    state = f.state
    if (state == "open" and f.due_at is not None and f.due_at < evaluated_at and f.rule_id != "ARC-ARCHIVE"
            and case["closed_at"] is not None and case["closed_at"] <= evaluated_at):
        return "breached"
    return state


def _rows(findings: Sequence[Finding], by_no: dict[str, dict], evaluated_at: datetime, key: str) -> list[dict]:
    out = []
    for f in findings:
        c = by_no[f.case_no]
        out.append({
            "case_id": c["id"], "rule_id": f.rule_id, "clause": f.clause, "state": _state(f, c, evaluated_at),
            "due_at": f.due_at, "warn_at": f.warn_at, "fulfilled_at": f.fulfilled_at,
            "detail": f.outcome, "evidence": json.dumps(f.evidence, ensure_ascii=False) if f.evidence else None,
            "rules_version": key, "evaluated_at": evaluated_at,
            "team_id": c["team_id"], "handler_id": c["handler_id"], "category": c["category"],
            "channel": c["channel"], "case_closed_at": c["closed_at"],
        })
    return out


def _hour_key(due_at: datetime, rule_id: str, state: str, team_id: int | None, category: str | None,
              channel: str | None) -> tuple:
    return (int(due_at.timestamp() // 3600), rule_id, state, team_id or 0, category or "", channel or "")


def _update_hours(session: Session, before: Counter, after: Counter) -> None:
    """Apply the change in hourly deadline counts (DeadlineHour) as upserts of the differences."""
    delta = Counter(after)
    delta.subtract(before)
    changes = [dict(zip(HOUR_KEYS, key), n=n) for key, n in delta.items() if n]
    if not changes:
        return
    table = DeadlineHour.__table__
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(HOUR_KEYS), set_={"n": table.c.n + stmt.excluded.n})
    for start in range(0, len(changes), CHUNK):
        session.execute(stmt, changes[start:start + CHUNK])
    emptied = [dict(zip(HOUR_KEYS, key)) for key, n in delta.items() if n < 0]
    if emptied:
        gone = delete(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in HOUR_KEYS), table.c.n == 0)
        session.execute(gone, [{f"k_{k}": v for k, v in row.items()} for row in emptied])


FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)  # "not yet" in the episodes' range conditions


def episode_rows(cases: Sequence[dict], th: Thresholds) -> list[dict]:
    """The deadline episodes of these cases as rows (the board's replay of past instants reads them)."""
    out = []
    for c in cases:
        closed = c["closed_at"] or FAR_FUTURE
        for e in episodes(c, th):
            pending = min(e.fulfilled_at or FAR_FUTURE, e.active_until or FAR_FUTURE)
            out.append({"case_id": c["id"], "rule_id": e.rule_id, "active_from": e.active_from, "due_at": e.due_at,
                        "warn_at": e.warn_at, "pending_until": pending,
                        "open_until": pending if e.rule_id == "ARC-ARCHIVE" else min(pending, closed),
                        "team_id": c["team_id"], "handler_id": c["handler_id"], "category": c["category"],
                        "channel": c["channel"]})
    return out


def store(session: Session, cases: Sequence[dict], findings: Sequence[Finding], evaluated_at: datetime,
          th: Thresholds) -> int:
    by_no = {c["case_no"]: c for c in cases}
    before: Counter = Counter()
    for chunk in _chunks([c["id"] for c in cases]):
        old = session.execute(select(Obligation.due_at, Obligation.rule_id, Obligation.state, Obligation.team_id,
                                     Obligation.category, Obligation.channel)
                              .where(Obligation.case_id.in_(chunk), Obligation.due_at.is_not(None)))
        before.update(_hour_key(*r) for r in old)
        session.execute(delete(Obligation).where(Obligation.case_id.in_(chunk)))
        session.execute(delete(DeadlineEpisode).where(DeadlineEpisode.case_id.in_(chunk)))
    rows = _rows(findings, by_no, evaluated_at, f"{RULES_VERSION}/{th.key()}")
    insert_rows(session, Obligation.__table__, rows)
    insert_rows(session, DeadlineEpisode.__table__, episode_rows(cases, th))
    after = Counter(_hour_key(r["due_at"], r["rule_id"], r["state"], r["team_id"], r["category"], r["channel"])
                    for r in rows if r["due_at"] is not None)
    _update_hours(session, before, after)
    return len(rows)


def reevaluate(session: Session, case_ids: Sequence[int], now: datetime | None = None,
               th: Thresholds | None = None) -> int:
    """Re-evaluate the given cases (after an import or an edit) and replace their stored obligations."""
    if not case_ids:
        return 0
    now = now or datetime.now(timezone.utc)
    th = th or thresholds(session)
    cases = load_cases(session, case_ids)
    findings = evaluate_parallel(cases, now, th) if len(cases) > bulk_chunk() else evaluate(cases, now, th)
    return store(session, cases, findings, now, th)


def reevaluate_all(session: Session, now: datetime | None = None, th: Thresholds | None = None,
                   progress: Progress | None = None, batch: int = 50000, workers: int | None = None) -> int:
    """Bulk job after a threshold or rule change: every case, in batches, in the caller's transaction."""
    now = now or datetime.now(timezone.utc)
    th = th or thresholds(session)
    all_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
    total, done, stored = len(all_ids), 0, 0
    if progress:
        progress(0, total)
    for ids in _chunks(all_ids, batch):
        cases = load_cases(session, ids)
        findings = evaluate_parallel(cases, now, th, workers=workers) if len(cases) > bulk_chunk() else evaluate(cases, now, th)
        stored += store(session, cases, findings, now, th)
        done += len(ids)
        if progress:
            progress(done, total)
    refresh_statistics(session)
    return stored


def live_status(state: str, due_at: datetime | None, warn_at: datetime | None, now: datetime) -> str | None:
    """The flag a stored obligation raises at `now` (None: no flag)."""
    if state in ("breached", "review"):
        return state
    if state != "open" or due_at is None:
        return None
    if now > due_at:
        return "breached"
    if warn_at is not None and warn_at <= now:
        return "at_risk"
    return None


def flag_condition(now: datetime):
    """SQL condition selecting stored obligations that raise a flag at `now` (uses the state/due indexes)."""
    return or_(
        Obligation.state.in_(("breached", "review")),
        and_(Obligation.state == "open", Obligation.due_at < now),
        and_(Obligation.state == "open", Obligation.warn_at <= now),
    )


def stored_flags(session: Session, now: datetime, case_no: str | None = None) -> list[dict]:
    """Flags from stored obligations as of `now`, sorted by case_no then rule_id."""
    q = (select(Case.case_no, Obligation.rule_id, Obligation.clause, Obligation.state, Obligation.due_at,
                Obligation.warn_at, Obligation.fulfilled_at, Obligation.detail, Obligation.evidence)
         .join(Case, Case.id == Obligation.case_id).where(flag_condition(now)))
    if case_no is not None:
        q = q.where(Case.case_no == case_no)
    out = []
    for r in session.execute(q):
        status = live_status(r.state, r.due_at, r.warn_at, now)
        if status:
            out.append({"case_no": r.case_no, "rule_id": r.rule_id, "clause": r.clause, "status": status,
                        "due_at": r.due_at, "fulfilled_at": r.fulfilled_at, "outcome": r.detail,
                        "evidence": json.loads(r.evidence) if r.evidence else {}})
    out.sort(key=lambda d: (d["case_no"], d["rule_id"]))
    return out


def counts_by_rule(session: Session, now: datetime) -> dict[str, dict[str, int]]:
    """rule_id -> number of obligations flagged breached / at_risk / review at `now`, and met."""
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"breached": 0, "at_risk": 0, "review": 0, "met": 0})
    q = select(Obligation.rule_id, Obligation.state, func.count()).group_by(Obligation.rule_id, Obligation.state)
    for rule_id, state, n in session.execute(q):
        if state in ("breached", "review", "met"):
            result[rule_id][state] += n
    open_q = (select(Obligation.rule_id,
                     func.sum(sql_case((Obligation.due_at < now, 1), else_=0)),
                     func.sum(sql_case((and_(Obligation.warn_at <= now, Obligation.due_at >= now), 1), else_=0)))
              .where(Obligation.state == "open").group_by(Obligation.rule_id))
    for rule_id, breached, at_risk in session.execute(open_q):
        result[rule_id]["breached"] += int(breached or 0)
        result[rule_id]["at_risk"] += int(at_risk or 0)
    return dict(result)

