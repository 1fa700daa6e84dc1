"""Stored obligations: evaluating cases from the database and keeping the results (with due times) so that
"what is at risk or breached now" is an indexed range query.

Every write happens inside the caller's transaction: a re-evaluation interrupted half-way leaves the
previous obligations in place.
"""
from __future__ import annotations

import json
from functools import partial
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

from sqlalchemy import and_, bindparam, delete, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.bulk import _instant, _pipelined, epoch_text, insert_prepared, insert_tuples
from db.session import refresh_statistics
from db.models import Case, Contact, DeadlineEpisode, DeadlineHour, Obligation, RejectionReview, Setting
from domain import clock
from rules.catalogue import BY_ID, RULES_VERSION, STORED_STATE
from rules.evaluate import NONE, OUTCOMES, RULE_CODE, RULE_IDS, Finish, Outcomes, Spans, start_evaluation
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


def known_case_numbers(session: Session, case_nos: Sequence[str]) -> set[str]:
    """Which of these case numbers the database already holds."""
    out: set[str] = set()
    for chunk in _chunks(sorted(set(case_nos))):
        out.update(session.scalars(select(Case.case_no).where(Case.case_no.in_(chunk))))
    return out


def evaluation_input(case_rows: Sequence[dict], present: Sequence[str], contact_rows: Sequence[dict]) -> list[dict]:
    """Cases new to the database as rules/ takes them, straight from checked import rows: the rule fields
    (a column the file does not have is None, as it will be stored), category and channel, and their
    contacts from the contact rows (a repeated contact once, as it will be stored). No review exists for a
    new case. The row dicts are completed in place (their other keys are left alone) and returned."""
    columns = set(present) | {"case_no"}
    absent = [name for name in (*RULE_FIELDS, "category", "channel") if name not in columns]
    by_case: dict[str, dict[tuple, None]] = defaultdict(dict)
    for r in contact_rows:
        by_case[r["case_no"]][(r["contact_at"], r["kind"])] = None
    for r in case_rows:  # the rows themselves, completed (a copy of 100k dicts cost a second)
        for name in absent:
            r[name] = None
        r["contacts"] = list(by_case.get(r["case_no"], ()))
        r["reviewed_at"] = None
    return list(case_rows)


def _reviews(session: Session, ids: Sequence[int] | None) -> dict[int, datetime]:
    """When each rejected case's review was recorded (SCOPE-REJECTED is fulfilled from then on)."""
    q = select(RejectionReview.case_id, RejectionReview.reviewed_at)
    if ids is not None:
        q = q.where(RejectionReview.case_id.in_(ids))
    return dict(session.execute(q).all())


# Per outcome and rule code (rules/evaluate.py): how an outcome is stored, and the rule's clause.
_STORED = [STORED_STATE[o] for o in OUTCOMES]
_CLAUSE = [BY_ID[r].clause for r in RULE_IDS]
_ARCHIVE = RULE_CODE["ARC-ARCHIVE"]


OBLIGATION_COLUMNS = ("case_id", "rule_id", "clause", "state", "due_at", "warn_at", "fulfilled_at", "detail",
                      "evidence", "rules_version", "evaluated_at", "team_id", "handler_id", "category", "channel",
                      "case_closed_at")
EPISODE_COLUMNS = ("case_id", "rule_id", "active_from", "due_at", "warn_at", "pending_until", "open_until",
                   "team_id", "handler_id", "category", "channel")
_TIMES = frozenset({"due_at", "warn_at", "fulfilled_at", "active_from", "pending_until", "open_until"})


def rules_key(th: Thresholds) -> str:
    """What stored obligations record as the logic that produced them: rules version and thresholds."""
    return f"{RULES_VERSION}/{th.key()}"


def _rows(cases: Sequence[dict], outcomes: Outcomes, evaluated_at: datetime, key: str,
          ids: bool = True) -> list[tuple]:
    """Obligation rows (OBLIGATION_COLUMNS; due, warn and fulfilled in epoch seconds) from an evaluation's
    columns. A deadline already missed on a case that was closed when evaluated can only change if the
    case's data changes, which re-evaluates it: it is stored as breached for good, so that the board's
    "open" obligations are only those someone can still act on."""
    out = []
    evaluated_s = int(evaluated_at.timestamp())
    evidence = outcomes.evidence
    closed_by = [c["closed_at"] is not None and c["closed_at"] <= evaluated_at for c in cases]
    for k, (pos, rule, outcome, due, warn, at) in enumerate(
            zip(outcomes.pos, outcomes.rule, outcomes.outcome, outcomes.due, outcomes.warn, outcomes.at)):
        c = cases[pos]
        state = _STORED[outcome]
        if state == "open" and due != NONE and due < evaluated_s and rule != _ARCHIVE and closed_by[pos]:
            state = "breached"
        ev = evidence.get(k)
        out.append((c["id"] if ids else pos, RULE_IDS[rule], _CLAUSE[rule], state, None if due == NONE else due,
                    None if warn == NONE else warn, None if at == NONE else at, OUTCOMES[outcome],
                    json.dumps(ev, ensure_ascii=False) if ev else None, key, evaluated_at,
                    c["team_id"] if ids else None, c["handler_id"] if ids else None, c["category"], c["channel"],
                    c["closed_at"]))
    return out


def prepare_sqlite_rows(outcomes: Outcomes, cases: Sequence[dict], offset: int, evaluated_at: datetime,
                        key: str) -> None:
    """An evaluation's `finish` step for SQLite (rules/evaluate.py runs it in the worker that evaluated the
    part): the obligation and episode rows with every instant already in SQLite's stored form, so that the
    importing process only fills in each case's id, team and handler (known once the cases are written)
    and hands the rows to sqlite3. Same rows as `_rows` and `_episode_rows` (a test compares the two
    paths); obligations carry their due time in epoch seconds as a last, not inserted, element (the hourly
    counts need it)."""
    evaluated = _instant(evaluated_at)
    closed_text: dict[int, str | None] = {}
    obligations = []
    for row in _rows(cases, outcomes, evaluated_at, key, ids=False):
        pos = row[0]
        closed = closed_text.get(pos, "")
        if closed == "":
            closed = closed_text[pos] = _instant(row[15])
        obligations.append((pos,) + row[1:4] + (epoch_text(row[4]), epoch_text(row[5]), epoch_text(row[6]))
                           + row[7:10] + (evaluated, None, None, row[13], row[14], closed, row[4]))
    episodes = [row[:2] + tuple(map(epoch_text, row[2:7])) + row[7:]
                for row in _episode_rows(cases, outcomes.spans, ids=False)]
    outcomes.extra = {"obligations": obligations, "episodes": episodes}


def _episode_rows(cases: Sequence[dict], spans: Spans, ids: bool = True) -> list[tuple]:
    """Deadline-episode rows (EPISODE_COLUMNS, instants in epoch seconds) for the board's replay."""
    out = []
    for pos, rule, start, due, warn, pending, until in zip(spans.pos, spans.rule, spans.active_from, spans.due,
                                                            spans.warn, spans.pending_until, spans.open_until):
        c = cases[pos]
        out.append((c["id"] if ids else pos, RULE_IDS[rule], start, due, warn, pending, until,
                    c["team_id"] if ids else None, c["handler_id"] if ids else None, c["category"], c["channel"]))
    return out


def _hour_key(due_at: datetime, rule_id: str, state: str, team_id: int | None, category: str | None,
              channel: str | None) -> tuple:
    return (int(due_at.timestamp() // 3600), rule_id, state, team_id or 0, category or "", channel or "")


def write_hours(session: Session, change: Counter) -> None:
    """Apply a change in hourly counts collected over several `store` calls."""
    _update_hours(session, Counter(), change)


def _update_hours(session: Session, before: Counter, after: Counter) -> None:
    """Apply the change in hourly deadline counts (DeadlineHour) as upserts of the differences."""
    delta = Counter(after)
    delta.subtract(before)
    changes = [dict(zip(HOUR_KEYS, key), n=n) for key, n in delta.items() if n]
    if not changes:
        return
    table = DeadlineHour.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":  # the same upsert as plain executemany (a fresh import adds ~100k of them)
        names = ", ".join(HOUR_KEYS)
        sql = (f"INSERT INTO deadline_hours ({names}, n) VALUES ({', '.join('?' * (len(HOUR_KEYS) + 1))}) "
               f"ON CONFLICT ({names}) DO UPDATE SET n = n + excluded.n")
        rows = [key + (n,) for key, n in delta.items() if n]
        _pipelined(session, sql, (rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)))
    else:
        stmt = pg_insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=list(HOUR_KEYS), set_={"n": table.c.n + stmt.excluded.n})
        for start in range(0, len(changes), CHUNK):
            session.execute(stmt, changes[start:start + CHUNK])
    emptied = [dict(zip(HOUR_KEYS, key)) for key, n in delta.items() if n < 0]
    if emptied:
        gone = delete(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in HOUR_KEYS), table.c.n == 0)
        session.execute(gone, [{f"k_{k}": v for k, v in row.items()} for row in emptied])


def store_episodes(session: Session, cases: Sequence[dict], th: Thresholds) -> None:
    """Insert the deadline episodes of these cases (dicts from `load_cases`)."""
    spans = Spans()
    for i, case in enumerate(cases):
        spans.add(i, case, th)
    insert_tuples(session, DeadlineEpisode.__table__, EPISODE_COLUMNS, _episode_rows(cases, spans), _TIMES)


def store(session: Session, cases: Sequence[dict], outcomes: Outcomes, evaluated_at: datetime,
          th: Thresholds, fresh: bool = False, hours: Counter | None = None) -> int:
    """Replace the stored obligations (and deadline episodes, and hourly counts) of these cases with an
    evaluation of them (`outcomes` from `evaluate_outcomes(cases, ...)`). `fresh`: the cases were inserted
    in this transaction, so there is nothing of theirs to replace. `hours`: add the change in hourly counts
    to it instead of writing it (a caller storing several parts writes the sum once, `write_hours`)."""
    key = rules_key(th)
    before: Counter = Counter()
    for chunk in ([] if fresh else _chunks([c["id"] for c in cases])):
        old = session.execute(select(Obligation.due_at, Obligation.rule_id, Obligation.state, Obligation.team_id,
                                     Obligation.category, Obligation.channel)
                              .where(Obligation.case_id.in_(chunk), Obligation.due_at.is_not(None)))
        before.update(_hour_key(*r) for r in old)
        session.execute(delete(Obligation).where(Obligation.case_id.in_(chunk)))
        session.execute(delete(DeadlineEpisode).where(DeadlineEpisode.case_id.in_(chunk)))
    prepared = outcomes.extra.get("obligations")
    if prepared is not None:  # SQLite rows made in the evaluating worker (prepare_sqlite_rows)
        rows = [(c["id"],) + r[1:11] + (c["team_id"], c["handler_id"]) + r[13:16]
                for r in prepared for c in (cases[r[0]],)]
        insert_prepared(session, Obligation.__table__, OBLIGATION_COLUMNS, rows)
        insert_prepared(session, DeadlineEpisode.__table__, EPISODE_COLUMNS,
                        [(c["id"],) + r[1:7] + (c["team_id"], c["handler_id"]) + r[9:]
                         for r in outcomes.extra["episodes"] for c in (cases[r[0]],)])
        after = Counter((r[16] // 3600, r[1], r[3], cases[r[0]]["team_id"] or 0, r[13] or "", r[14] or "")
                        for r in prepared if r[16] is not None)
    else:
        rows = _rows(cases, outcomes, evaluated_at, key)
        insert_tuples(session, Obligation.__table__, OBLIGATION_COLUMNS, rows, _TIMES)
        insert_tuples(session, DeadlineEpisode.__table__, EPISODE_COLUMNS, _episode_rows(cases, outcomes.spans),
                      _TIMES)
        # hourly counts by due hour, rule, state, team, category, channel
        after = Counter((r[4] // 3600, r[1], r[3], r[11] or 0, r[13] or "", r[14] or "") for r in rows
                        if r[4] is not None)
    if hours is not None:
        hours.update(after)
        hours.subtract(before)
    else:
        _update_hours(session, before, after)
    return len(rows)


def reevaluate(session: Session, case_ids: Sequence[int], now: datetime | None = None,
               th: Thresholds | None = None) -> int:
    """Re-evaluate the given cases (after an import or an edit) and replace their stored obligations."""
    if not case_ids:
        return 0
    now = now or clock.now_precise()
    th = th or thresholds(session)
    cases = load_cases(session, case_ids)
    return store(session, cases, _evaluate(session, cases, now, th), now, th)


def _evaluate(session: Session, cases: Sequence[dict], now: datetime, th: Thresholds,
              workers: int | None = None) -> Outcomes:
    return start_evaluation(cases, now, th, workers, with_spans=True, finish=row_maker(session, now, th)).result()


def row_maker(session: Session, evaluated_at: datetime, th: Thresholds) -> Finish | None:
    """On SQLite, let the evaluation make the rows it stores (`prepare_sqlite_rows`), in its workers."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    return partial(prepare_sqlite_rows, evaluated_at=evaluated_at, key=rules_key(th))


def reevaluate_all(session: Session, now: datetime | None = None, th: Thresholds | None = None,
                   progress: Progress | None = None, batch: int = 50000, workers: int | None = None) -> int:
    """Bulk job after a threshold or rule change: every case, in batches, in the caller's transaction."""
    now = now or clock.now_precise()
    th = th or thresholds(session)
    all_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
    total, done, stored = len(all_ids), 0, 0
    if progress:
        progress(0, total)
    for ids in _chunks(all_ids, batch):
        cases = load_cases(session, ids)
        stored += store(session, cases, _evaluate(session, cases, now, th, workers), now, th)
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


def _filled(column):
    return and_(column.is_not(None), func.trim(column) != "")


def check_applicability(session: Session, now: datetime) -> dict[str, int]:
    """How many cases each check rule applies to as of `now` (the conditions of rules/applies.py in SQL,
    one pass over the cases). Passing checks store no row, so this is how "passed" is counted."""
    closed = and_(Case.closed_at.is_not(None), Case.closed_at <= now)
    transferred = _filled(Case.transferred_to)
    dissatisfied = and_(Case.satisfaction == "dissatisfied", or_(Case.survey_at.is_(None), Case.survey_at <= now))
    rejected = Case.acceptance == "rejected"
    conditions = {
        "REC-ACCEPTANCE": Case.acceptance == "accepted",
        "SCOPE-REJECTED": rejected,
        "SCOPE-GROUND": rejected,
        "REC-TRANSFER": transferred,
        "REC-DEPT-SOLUTION": and_(transferred, closed),
        "REC-DECISION": closed,
        "SAT-SURVEY": closed,
        "SAT-ROOT-CAUSE": dissatisfied,
        "SAT-ALTERNATIVES": and_(dissatisfied, Case.demand_excessive.is_(True)),
        "ARC-TYPICAL": Case.typical.is_(True),
    }
    q = select(*[func.coalesce(func.sum(sql_case((cond, 1), else_=0)), 0) for cond in conditions.values()]).where(
        Case.received_at <= now)
    return {rule_id: int(n) for rule_id, n in zip(conditions, session.execute(q).one())}


def counts_by_rule(session: Session, now: datetime) -> dict[str, dict[str, int]]:
    """rule_id -> obligations flagged breached / at_risk / review at `now`; `met` (deadlines fulfilled on
    time); `applies` (cases the rule applies to) and, for check rules, `passed` (applies but raised nothing:
    passing checks store no row, so a stored "met" would always read 0)."""
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"breached": 0, "at_risk": 0, "review": 0, "met": 0,
                                                             "applies": 0})
    q = select(Obligation.rule_id, Obligation.state, func.count()).group_by(Obligation.rule_id, Obligation.state)
    for rule_id, state, n in session.execute(q):
        result[rule_id]["applies"] += n  # every applicable deadline is stored, whatever its state
        if state in ("breached", "review", "met"):
            result[rule_id][state] += n
    open_q = (select(Obligation.rule_id,
                     func.sum(sql_case((Obligation.due_at < now, 1), else_=0)),
                     func.sum(sql_case((and_(Obligation.warn_at <= now, Obligation.due_at >= now), 1), else_=0)))
              .where(Obligation.state == "open").group_by(Obligation.rule_id))
    for rule_id, breached, at_risk in session.execute(open_q):
        result[rule_id]["breached"] += int(breached or 0)
        result[rule_id]["at_risk"] += int(at_risk or 0)
    for rule_id, applies in check_applicability(session, now).items():
        c = result[rule_id]
        c["applies"] = applies
        c["passed"] = max(0, applies - c["breached"] - c["review"])
    return dict(result)

