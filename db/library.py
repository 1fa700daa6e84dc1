"""The typical-case library (10.1.2), training sessions (6.2) and the archive workflow (10.1.1).

A library entry is the active TypicalMark of a case. Its text is de-identified when the mark is saved and
stored with its search tokens, so the library never reads a customer's personal data at display time and
search does not segment the texts again. Marks are never rewritten (history), and each write is one
transaction with its audit row and the case's re-evaluation (ARC-TYPICAL and ARC-ARCHIVE follow the case).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, object_session, selectinload

from db.audit import record
from db.board import sql_const
from db.models import Case, Contact, Handler, Obligation, Setting, Team, TrainingSession, TypicalMark
from db.obligations import live_status, reevaluate
from domain import clock
from rules.applies import applicable_checks
from domain.deid import scrub_text
from domain.i18n import Said
from domain.textsearch import (TOKENIZER_VERSION, Index, build_index, near_duplicates, query_terms, rank_index,
                               tokens)
from domain.vocab import label

EXAMPLES = ("good", "bad")
# The clauses a library entry can be tagged with (the standard's numbered clauses).
CLAUSES = ("4.1", "4.3", "5", "6.1.2", "6.2", "7.1.2", "7.2", "8.2.1", "8.2.2", "8.2.3", "8.3.1", "8.3.2",
           "8.3.3", "8.3.4", "8.3.5", "8.3.6", "9.1", "9.2", "9.3", "10.1.1", "10.1.2", "10.2.1", "10.2.2")
# Finer complaint labels an operator's work orders use (domain notes), all within the standard's three
# classes (clause 5); offered as ready-made tags when a case is marked typical.
CATEGORY_TAGS = ("业务使用", "业务办理", "信息安全", "网络", "费用", "营销活动", "不知情定制", "服务")
# The record rules an archive checklist requires to pass (10.1.1: the materials are complete).
RECORD_RULES = ("REC-ACCEPTANCE", "REC-TRANSFER", "REC-DEPT-SOLUTION", "REC-DECISION", "SAT-SURVEY")
TEXT_FIELDS = ("description", "true_reason", "customer_demand", "event_restoration", "existing_problem",
               "solution_measures", "dept_solution", "decision", "dissatisfaction_cause", "alternatives")


class LibraryRefused(ValueError):
    """The change was not made; the message says why."""


def _names(case: Case) -> list[str]:
    return [case.customer_name] if case.customer_name else []


def roster(session: Session | None) -> tuple[str, ...]:
    """The full names of every handler, read once per session: colleagues named in a case's text are
    masked in the library and training packs like the customer."""
    if session is None:
        return ()
    if "deid_roster" not in session.info:
        session.info["deid_roster"] = tuple(sorted(n for n in session.scalars(select(Handler.name)) if n))
    return session.info["deid_roster"]


def _scrub(text: str | None, case: Case) -> str:
    out = scrub_text(text, _names(case), roster(object_session(case)))
    if case.customer_phone and case.customer_phone in out:  # an unusual form the patterns did not catch
        out = out.replace(case.customer_phone, "[手机号]")
    return out


def entry_text(case: Case, summary: str, lesson: str, tags: Sequence[str], notes: Sequence[str]) -> str:
    """The de-identified text of a library entry, searched and shown. Line 1 is the summary, line 2 the
    lesson (either may be empty); the case's category, tags, free-text fields and contact notes follow."""
    head = [_scrub(summary, case).replace("\n", " "), _scrub(lesson, case).replace("\n", " ")]
    parts = [label("category", case.category, "zh"), case.subcategory or "", " ".join(tags)]
    parts += [getattr(case, f) or "" for f in TEXT_FIELDS] + list(notes)
    return "\n".join(head + [_scrub(p, case) for p in parts if p])


def entry_tokens(library_text: str) -> str:
    """Search tokens of an entry; the summary and the lesson (the first two lines) count twice, so an
    entry written up about a topic ranks above one that only mentions it."""
    lines = library_text.split("\n")
    head, rest = "\n".join(lines[:2]), "\n".join(lines[2:])
    return " ".join(tokens(head) * 2 + tokens(rest))


def _check_version(session: Session, case: Case, expected_version: int, now: datetime, **values: Any) -> None:
    bumped = session.execute(update(Case).where(Case.id == case.id, Case.version == expected_version)
                             .values(version=Case.version + 1, updated_at=now, **values)
                             .execution_options(synchronize_session=False))
    if bumped.rowcount != 1:
        raise LibraryRefused(Said("err.library.1", case_no=case.case_no))


def _active(session: Session, case_id: int) -> TypicalMark | None:
    return session.scalar(select(TypicalMark).where(TypicalMark.case_id == case_id, TypicalMark.active.is_(True)))


def mark_typical(session: Session, case_no: str, expected_version: int, summary: str, lesson: str,
                 tags: Sequence[str], clauses: Sequence[str], example: str | None, actor: str,
                 now: datetime | None = None) -> int:
    """Mark (or re-mark with new text) a case as typical. Returns the new mark's id."""
    now = now or clock.now_precise()
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise LibraryRefused(Said("err.library.2", case_no=case_no))
    summary, lesson = (summary or "").strip(), (lesson or "").strip()
    if not summary:
        raise LibraryRefused(Said("err.library.3"))
    if example not in (None, *EXAMPLES):
        raise LibraryRefused(Said("err.library.4", example=repr(example)))
    bad = [c for c in clauses if c not in CLAUSES]
    if bad:
        raise LibraryRefused(Said("err.library.5", value=bad[0]))
    clean_tags = sorted({t.strip() for t in tags if t and t.strip()})
    previous = _active(session, case.id)
    _check_version(session, case, expected_version, now, typical=True, typical_summary=summary)
    if previous is not None:
        previous.active, previous.ended_by, previous.ended_at, previous.end_reason = False, actor, now, "edited"
        session.flush()
    notes = [c.note for c in session.scalars(select(Contact).where(Contact.case_id == case.id)) if c.note]
    mark = TypicalMark(case_id=case.id, summary=summary, lesson=lesson or None,
                       tags=json.dumps(clean_tags, ensure_ascii=False), clauses=json.dumps(sorted(set(clauses))),
                       example=example, marked_by=actor, marked_at=now, active=True,
                       library_text="", tokens="")
    mark.library_text = entry_text(case, summary, lesson, clean_tags, notes)
    mark.tokens = entry_tokens(mark.library_text)
    session.add(mark)
    session.flush()
    record(session, actor, "mark_typical", "case", case_no,
           None if previous is None else {"summary": previous.summary, "lesson": previous.lesson},
           {"summary": summary, "lesson": lesson, "tags": clean_tags, "clauses": sorted(set(clauses)), "example": example})
    reevaluate(session, [case.id], now)
    return mark.id


def unmark_typical(session: Session, case_no: str, expected_version: int, actor: str, now: datetime | None = None) -> None:
    now = now or clock.now_precise()
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise LibraryRefused(Said("err.library.6", case_no=case_no))
    current = _active(session, case.id)
    if current is None and not case.typical:
        raise LibraryRefused(Said("err.library.7", case_no=case_no))
    _check_version(session, case, expected_version, now, typical=False)
    if current is not None:
        current.active, current.ended_by, current.ended_at, current.end_reason = False, actor, now, "unmarked"
    record(session, actor, "unmark_typical", "case", case_no, {"summary": current.summary if current else None}, None)
    reevaluate(session, [case.id], now)


def mark_history(session: Session, case_id: int) -> list[dict[str, Any]]:
    q = select(TypicalMark).where(TypicalMark.case_id == case_id).order_by(TypicalMark.marked_at.desc(), TypicalMark.id.desc())
    return [_mark(m) for m in session.scalars(q)]


def current_mark(session: Session, case_id: int) -> dict[str, Any] | None:
    m = _active(session, case_id)
    return _mark(m) if m else None


def _mark(m: TypicalMark) -> dict[str, Any]:
    return {"id": m.id, "case_id": m.case_id, "summary": m.summary, "lesson": m.lesson or "",
            "tags": json.loads(m.tags), "clauses": json.loads(m.clauses), "example": m.example,
            "marked_by": m.marked_by, "marked_at": m.marked_at, "active": m.active, "ended_by": m.ended_by,
            "ended_at": m.ended_at, "end_reason": m.end_reason}


def sync_imported(session: Session, case_ids: Sequence[int], now: datetime | None = None) -> int:
    """Keep the library in step with imported cases: a case the work-order system exports as typical
    enters the library (marked by `import`, with the exported summary) unless it already has a mark, and
    the de-identified text of entries whose case changed is rebuilt. Returns how many entries were added."""
    if not case_ids:
        return 0
    now = now or clock.now_precise()
    added = 0
    ids = list(case_ids)
    for n in range(0, len(ids), 900):
        chunk = ids[n:n + 900]
        marks = {m.case_id: m for m in session.scalars(select(TypicalMark).where(
            TypicalMark.case_id.in_(chunk), TypicalMark.active.is_(True)))}
        cases = session.scalars(select(Case).options(selectinload(Case.contacts)).where(
            Case.id.in_(chunk), or_(Case.typical.is_(True), Case.id.in_(list(marks)))))
        for case in cases:
            notes = [c.note for c in case.contacts if c.note]
            mark = marks.get(case.id)
            if mark is not None:
                mark.library_text = entry_text(case, mark.summary, mark.lesson or "", json.loads(mark.tags), notes)
                mark.tokens = entry_tokens(mark.library_text)
                continue
            summary = case.typical_summary or ""
            text = entry_text(case, summary, "", [], notes)
            session.add(TypicalMark(case_id=case.id, summary=summary, lesson=None, tags="[]", clauses="[]",
                                    example=None, marked_by="import", marked_at=now, active=True,
                                    library_text=text, tokens=entry_tokens(text)))
            added += 1
    session.flush()
    return added


# ---------------------------------------------------------------- browsing and search

@dataclass
class LibraryFilters:
    query: str = ""
    categories: list[str] = field(default_factory=list)
    subcategories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    outcome: str = "any"  # any | satisfied | dissatisfied
    example: str = "any"  # any | good | bad


COLLAPSE_WINDOW = 400  # ranked entries looked at for near-duplicates (the page shows 50)
_INDEXES: dict[str, tuple[tuple, Index]] = {}  # database URL -> (state of the library, its index)
_INDEX_LOCK = threading.Lock()


def _library_index(session: Session) -> Index:
    """The active entries' tokens in memory, brought up to date when the library changed: the state is the
    number of active entries, their largest id, the sum of their ids, the latest marking time and the total
    length of their tokens (any mark, edit, unmark, archive or re-index changes it), read with one aggregate
    query; then only the entries added or gone are read or dropped.
    Searches of one database share the index under a lock (ranking takes tens of milliseconds)."""
    active = TypicalMark.active.is_(True)
    row = session.execute(
        select(func.count(), func.max(TypicalMark.id), func.sum(TypicalMark.id), func.max(TypicalMark.marked_at),
               func.sum(func.length(TypicalMark.tokens))).where(active)).one()
    state = tuple(str(v) for v in row) + (TOKENIZER_VERSION,)
    stored_chars = int(row[4] or 0)
    url = session.get_bind().url.render_as_string(hide_password=True)
    with _INDEX_LOCK:
        cached = _INDEXES.get(url)
        if cached and cached[0] == state:
            return cached[1]
        index = None
        if cached and cached[0][-1] == TOKENIZER_VERSION:
            index = cached[1]
            now_ids = set(session.scalars(select(TypicalMark.id).where(active)))
            gone, new = set(index.lengths) - now_ids, now_ids - set(index.lengths)
            index.remove(gone)
            new_ids = sorted(new)
            for n in range(0, len(new_ids), 900):
                index.add(session.execute(select(TypicalMark.id, TypicalMark.tokens)
                                          .where(TypicalMark.id.in_(new_ids[n:n + 900]))).all())
            # the entries kept must still hold the tokens indexed: re-indexed entries, or another database
            # behind the same URL (a restore), no longer add up to the stored length
            if index.total_chars != stored_chars:
                index = None
        if index is None:
            index = build_index(session.execute(select(TypicalMark.id, TypicalMark.tokens).where(active)).all())
        if len(_INDEXES) >= 4 and url not in _INDEXES:  # test runs open many databases: keep a few
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[url] = (state, index)
        return index


def search_library(session: Session, f: LibraryFilters, limit: int = 200, collapse: bool = True) -> list[dict[str, Any]]:
    """Active library entries matching the filters; with a query, ranked by relevance (BM25 on jieba
    tokens), else newest first. No personal data is read: only the de-identified copy. Ranking reads only
    the ids, tokens and tags; the shown fields are loaded for the entries returned."""
    conds = [TypicalMark.active.is_(True)]
    if f.categories:
        conds.append(Case.category.in_(f.categories))
    if f.subcategories:
        conds.append(Case.subcategory.in_(f.subcategories))
    if f.outcome == "satisfied":
        conds.append(Case.satisfaction.in_(("satisfied", "basically_satisfied")))
    elif f.outcome == "dissatisfied":
        conds.append(Case.satisfaction == "dissatisfied")
    if f.example in EXAMPLES:
        conds.append(TypicalMark.example == f.example)
    query = f.query.strip()
    terms = query_terms(query) if query else []
    by_text = bool(terms) and all(len(t) == 1 for t in terms)  # 差: looked up in the text, not in the tokens
    cols = [TypicalMark.id, TypicalMark.tags, TypicalMark.clauses, TypicalMark.marked_at, Case.case_no]
    if query:
        ensure_index(session)
        if by_text:
            cols.append(TypicalMark.library_text)
    filtered = any((f.categories, f.subcategories, f.tags, f.clauses, f.outcome in ("satisfied", "dissatisfied"),
                    f.example in EXAMPLES))
    candidates = []
    if filtered or not query or by_text:  # a ranked search of the whole library needs no candidate list
        for r in session.execute(select(*cols).join(Case, Case.id == TypicalMark.case_id).where(*conds)):
            if f.tags and not set(f.tags) & set(json.loads(r.tags)):
                continue
            if f.clauses and not set(f.clauses) & set(json.loads(r.clauses)):
                continue
            candidates.append(r)
    similar: dict[int, int] = {}
    if query and by_text:
        counts = [(r.id, sum(r.library_text.count(t) for t in terms)) for r in candidates]
        scored = sorted(((i, float(c)) for i, c in counts if c), key=lambda x: (-x[1], x[0]))[:limit]
        order, scores = [doc_id for doc_id, _ in scored], dict(scored)
    elif query:
        index = _library_index(session)
        with _INDEX_LOCK:  # another search may be bringing the index up to date
            scored = rank_index(query, index, {r.id for r in candidates} if filtered else None)
        # near-duplicates (the same template with another number or place) fold into the first one, which
        # says how many it stands for; looked for among the first results people read
        window = COLLAPSE_WINDOW if collapse else 0
        head = scored[:window]
        with _INDEX_LOCK:
            sets = [index.sets[i] for i, _ in head]
        twins = near_duplicates(sets)
        order, scores = [], {}
        for (doc_id, score), twin in zip(head, twins):
            if twin >= 0:  # always an entry that was kept
                similar[head[twin][0]] = similar.get(head[twin][0], 0) + 1
            else:
                order.append(doc_id)
                scores[doc_id] = score
        order += [doc_id for doc_id, _ in scored[window:]]
        scores.update(dict(scored[window:]))
        order = order[:limit]
    else:
        candidates.sort(key=lambda r: (r.marked_at, r.case_no), reverse=True)
        order, scores = [r.id for r in candidates[:limit]], {}
    if not order:
        return []
    q = (select(TypicalMark.id, TypicalMark.case_id, TypicalMark.tags, TypicalMark.clauses, TypicalMark.example,
                TypicalMark.marked_by, TypicalMark.marked_at, TypicalMark.library_text,
                Case.case_no, Case.category, Case.subcategory, Case.satisfaction, Case.channel, Case.received_at)
         .join(Case, Case.id == TypicalMark.case_id))
    found = {}
    rows = (r for n in range(0, len(order), 900) for r in session.execute(q.where(TypicalMark.id.in_(order[n:n + 900]))))
    for r in rows:
        lines = r.library_text.split("\n")
        found[r.id] = {"id": r.id, "case_id": r.case_id, "tags": json.loads(r.tags), "clauses": json.loads(r.clauses),
                       "example": r.example, "marked_by": r.marked_by, "marked_at": r.marked_at, "active": True,
                       "summary": lines[0], "lesson": lines[1] if len(lines) > 1 else "",  # de-identified
                       "case_no": r.case_no, "category": r.category, "subcategory": r.subcategory,
                       "satisfaction": r.satisfaction, "channel": r.channel, "received_at": r.received_at,
                       "library_text": r.library_text}
        if r.id in scores:
            found[r.id]["score"] = scores[r.id]
        found[r.id]["similar"] = similar.get(r.id, 0)
    return [found[i] for i in order if i in found]


def ensure_index(session: Session) -> int:
    """Re-make the stored search tokens of every entry when they were made by an older tokenizer (new
    telecom words, stop terms, no placeholders); returns how many entries were re-indexed."""
    key = "library_tokenizer"
    stored = session.get(Setting, key)
    if stored is not None and stored.value == TOKENIZER_VERSION:
        return 0
    marks = session.execute(select(TypicalMark.id, TypicalMark.library_text)).all()
    if marks:
        session.execute(update(TypicalMark), [{"id": i, "tokens": entry_tokens(text or "")} for i, text in marks])
    if stored is None:
        session.add(Setting(key=key, value=TOKENIZER_VERSION))
    else:
        stored.value = TOKENIZER_VERSION
    session.flush()
    return len(marks)


def library_facets(session: Session) -> dict[str, list[str]]:
    """Values to filter by: subcategories and free tags of the active entries."""
    q = (select(Case.subcategory, TypicalMark.tags).join(Case, Case.id == TypicalMark.case_id)
         .where(TypicalMark.active.is_(True)))
    subs, tags = set(), set()
    for sub, tag_json in session.execute(q):
        if sub:
            subs.add(sub)
        tags.update(json.loads(tag_json))
    return {"subcategories": sorted(subs), "tags": sorted(tags)}


def library_case(session: Session, case_no: str) -> dict[str, Any] | None:
    """A library entry's case, de-identified: fields, contacts with scrubbed notes, its mark, its flags."""
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        return None
    mark = _active(session, case.id)
    if mark is None:
        return None
    rec: dict[str, Any] = {c.name: getattr(case, c.key) for c in Case.__table__.columns}
    for f in TEXT_FIELDS + ("typical_summary",):
        rec[f] = _scrub(rec[f], case)
    rec["customer_name"] = rec["customer_phone"] = None  # the library never carries them
    rec["handler"] = case.handler.name
    rec["team"] = case.team.name if case.team else None
    rec["contacts"] = [{"contact_at": c.contact_at, "kind": c.kind, "channel": c.channel,
                        "note": _scrub(c.note, case)} for c in case.contacts]
    rec["mark"] = {**_mark(mark), "summary": _scrub(mark.summary, case), "lesson": _scrub(mark.lesson, case)}
    return rec


# ---------------------------------------------------------------- training sessions (6.2)

def record_training(session: Session, held_at: datetime, trainer: str, topic: str, attendees: Sequence[str],
                    case_nos: Sequence[str], actor: str) -> int:
    topic, trainer = (topic or "").strip(), (trainer or "").strip()
    people = sorted({a.strip() for a in attendees if a and a.strip()})
    if not topic:
        raise LibraryRefused(Said("err.library.8"))
    if not trainer:
        raise LibraryRefused(Said("err.library.9"))
    if not people:
        raise LibraryRefused(Said("err.library.10"))
    known = set(session.scalars(select(Case.case_no).where(Case.case_no.in_(list(case_nos)))))
    unknown = [c for c in case_nos if c not in known]
    if unknown:
        raise LibraryRefused(Said("err.library.11", value=unknown[0]))
    row = TrainingSession(held_at=held_at, trainer=trainer, topic=topic,
                          attendees=json.dumps(people, ensure_ascii=False),
                          case_nos=json.dumps(list(case_nos), ensure_ascii=False), created_by=actor)
    session.add(row)
    session.flush()
    record(session, actor, "record_training", "training_session", str(row.id), None,
           {"held_at": held_at, "trainer": trainer, "topic": topic, "attendees": people, "cases": list(case_nos)})
    return row.id


def pack_cases(session: Session, case_nos: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    """The de-identified library records of a training pack, each with its obligations (for the story)."""
    from db.queries import case_obligations

    cases = []
    for case_no in case_nos:
        rec = library_case(session, case_no)
        if rec is not None:
            rec["obligations"] = case_obligations(session, rec["id"], now)
            cases.append(rec)
    return cases


def trainings(session: Session, since: datetime | None = None) -> list[dict[str, Any]]:
    q = select(TrainingSession).order_by(TrainingSession.held_at.desc())
    if since is not None:
        q = q.where(TrainingSession.held_at >= since)
    return [{"id": t.id, "held_at": t.held_at, "trainer": t.trainer, "topic": t.topic,
             "attendees": json.loads(t.attendees), "case_nos": json.loads(t.case_nos), "created_by": t.created_by}
            for t in session.scalars(q)]


# ---------------------------------------------------------------- archive workflow (10.1.1)

def archive_queue(session: Session, now: datetime, teams: Sequence[str] = (), limit: int = 500) -> tuple[int, list[dict[str, Any]]]:
    """Closed cases not yet archived (their ARC-ARCHIVE obligation is open), oldest due first, each with
    its checklist: the record rules and whether they pass. Counted and ordered on the archive backlog's
    own index (due = closing time + the archive threshold, so closing order is due order)."""
    conds = [Obligation.rule_id == sql_const("ARC-ARCHIVE"), Obligation.state == sql_const("open"),
             Obligation.case_closed_at <= now]
    if teams:
        conds.append(Obligation.team_id.in_(select(Team.id).where(Team.name.in_(list(teams)))))
    total = session.scalar(select(func.count()).select_from(Obligation).where(*conds)) or 0
    first = (select(Obligation.case_id, Obligation.due_at, Obligation.warn_at).where(*conds)
             .order_by(Obligation.case_closed_at, Obligation.case_id).limit(limit).subquery())
    q = (select(Case.id, Case.case_no, Case.version, Case.category, Case.subcategory, Case.closed_at,
                Case.received_at, Case.acceptance, Case.transferred_to, Case.survey_at, Case.satisfaction,
                Case.demand_excessive, Case.typical, Handler.name.label("handler"), Team.name.label("team"),
                first.c.due_at, first.c.warn_at)
         .join(first, first.c.case_id == Case.id).join(Handler, Handler.id == Case.handler_id)
         .outerjoin(Team, Team.id == Case.team_id).order_by(first.c.due_at, Case.case_no))
    rows = [r._asdict() for r in session.execute(q)]
    checks = _record_checks(session, [r["id"] for r in rows], now)
    for r in rows:
        r["status"] = live_status("open", r["due_at"], r["warn_at"], now)
        applies = applicable_checks(r, now)
        stored = checks.get(r["id"], {})
        r["checks"] = {rule: stored.get(rule, "pass") if rule in applies else None for rule in RECORD_RULES}
        r["complete"] = all(v != "breached" for v in r["checks"].values())
    return int(total), rows


def _record_checks(session: Session, case_ids: Sequence[int], now: datetime) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for n in range(0, len(case_ids), 900):
        q = (select(Obligation.case_id, Obligation.rule_id, Obligation.state, Obligation.due_at, Obligation.warn_at)
             .where(Obligation.case_id.in_(list(case_ids[n:n + 900])), Obligation.rule_id.in_(RECORD_RULES)))
        for case_id, rule_id, state, due, warn in session.execute(q):
            status = live_status(state, due, warn, now)
            out.setdefault(case_id, {})[rule_id] = "breached" if status == "breached" else (status or state)
    return out


def archive_cases(session: Session, versions: dict[str, int], actor: str, now: datetime | None = None) -> list[str]:
    """Archive the given cases (case_no -> the version the page showed) now. All or nothing: a case whose
    records are incomplete, that is not closed, already archived or changed meanwhile refuses the batch."""
    now = now or clock.now_precise()
    if not versions:
        raise LibraryRefused(Said("err.library.12"))
    cases = {c.case_no: c for c in session.scalars(select(Case).where(Case.case_no.in_(list(versions))))}
    for case_no in versions:
        case = cases.get(case_no)
        if case is None:
            raise LibraryRefused(Said("err.library.13", case_no=case_no))
        if case.closed_at is None or case.closed_at > now:
            raise LibraryRefused(Said("err.library.14", case_no=case_no))
        if case.archived_at is not None:
            raise LibraryRefused(Said("err.library.15", case_no=case_no))
    checks = _record_checks(session, [c.id for c in cases.values()], now)
    for case_no, case in cases.items():
        failing = [rule for rule, status in checks.get(case.id, {}).items() if status == "breached"]
        if failing:
            raise LibraryRefused(Said("err.library.16", case_no=case_no, value=', '.join(sorted(failing))))
    for case_no, case in sorted(cases.items()):
        _check_version(session, case, versions[case_no], now, archived_at=now)
        record(session, actor, "archive", "case", case_no, {"archived_at": None}, {"archived_at": now})
    reevaluate(session, sorted(c.id for c in cases.values()), now)
    return sorted(cases)


def typical_counts(session: Session) -> dict[str, int]:
    active = session.scalar(select(func.count()).select_from(TypicalMark).where(TypicalMark.active.is_(True))) or 0
    good = session.scalar(select(func.count()).select_from(TypicalMark).where(
        and_(TypicalMark.active.is_(True), TypicalMark.example == "good"))) or 0
    return {"active": int(active), "good": int(good)}
