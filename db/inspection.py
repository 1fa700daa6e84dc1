"""Quality inspection data (6.3): scorecard versions, sampling plans and their items, assessments.

Every write is one transaction with its audit row. Saving an assessment checks the sample item's version
in the same UPDATE that bumps it, so of two inspectors who opened the same item the second save is refused
and nothing of the first is overwritten.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import pandas as pd
from sqlalchemy import String, and_, delete, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from db.audit import record
from db.board import sql_const
from db.users import display_name
from db.bulk import insert_rows
from domain import clock
from rules.catalogue import BY_ID
from db.models import (Assessment, AssessmentItem, Case, Handler, Obligation, SampleItem, SamplingPlan,
                       Scorecard, Team)
from domain.config import local_zone
from domain.i18n import Said
from domain.calibration import DEFAULT_THRESHOLD
from domain.sampling import Method, SampleInvalid, assign, draw
from domain.scorecard import DEFAULT_ITEMS, DEFAULT_NAME, DEFAULT_PASS_MARK, VERDICTS, Score, dumps, score, validate_items


class AssessmentRefused(ValueError):
    """The assessment was not saved; the message says why."""


class StaleAssessment(AssessmentRefused):
    """Someone saved this item after the inspector opened it."""


# ---------------------------------------------------------------- scorecards

def _card(s: Scorecard) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "version": s.version, "items": json.loads(s.items),
            "pass_mark": s.pass_mark, "created_by": s.created_by, "created_at": s.created_at}


def ensure_default_scorecard(session: Session) -> int:
    """The standard-derived card, created on first use so that a new database can be inspected at once."""
    existing = session.scalar(select(Scorecard.id).order_by(Scorecard.id).limit(1))
    if existing is not None:
        return existing
    card = Scorecard(name=DEFAULT_NAME, version=1, items=dumps(DEFAULT_ITEMS), pass_mark=DEFAULT_PASS_MARK,
                     created_by="system")
    session.add(card)
    session.flush()
    return card.id


def scorecard(session: Session, scorecard_id: int) -> dict[str, Any]:
    return _card(session.get(Scorecard, scorecard_id))


def latest_scorecards(session: Session) -> list[dict[str, Any]]:
    """The newest version of every scorecard name."""
    newest = select(Scorecard.name, func.max(Scorecard.version).label("v")).group_by(Scorecard.name).subquery()
    q = select(Scorecard).join(newest, and_(newest.c.name == Scorecard.name, newest.c.v == Scorecard.version))
    return [_card(s) for s in session.scalars(q.order_by(Scorecard.name))]


def scorecard_versions(session: Session, name: str) -> list[dict[str, Any]]:
    q = select(Scorecard).where(Scorecard.name == name).order_by(Scorecard.version.desc())
    return [_card(s) for s in session.scalars(q)]


def save_scorecard(session: Session, name: str, items: Sequence[dict[str, Any]], pass_mark: float,
                   actor: str) -> dict[str, Any]:
    """Add the next version of a scorecard (earlier versions stay as they were, for their assessments)."""
    name = (name or "").strip()
    if not name:
        raise AssessmentRefused(Said("err.inspection.1"))
    if not 0 <= float(pass_mark) <= 100:
        raise AssessmentRefused(Said("err.inspection.2"))
    clean = validate_items(items, BY_ID)
    current = session.scalar(select(func.max(Scorecard.version)).where(Scorecard.name == name)) or 0
    card = Scorecard(name=name, version=current + 1, items=dumps(clean), pass_mark=float(pass_mark), created_by=actor)
    session.add(card)
    session.flush()
    record(session, actor, "save_scorecard", "scorecard", f"{name} v{card.version}", None,
           {"items": clean, "pass_mark": float(pass_mark)})
    return _card(card)


# ---------------------------------------------------------------- population and plans

@dataclass
class Population:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    include_open: bool = False  # default: closed cases, by closing time; else all cases received in the period
    teams: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    flags: str = "any"  # any | with | without
    include_assessed: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Population":
        return cls(**{**d, "start": datetime.fromisoformat(d["start"]), "end": datetime.fromisoformat(d["end"])})


def _flagged_ids(session: Session, p: Population, now: datetime) -> set[int]:
    """Every case of the population's period that raises a flag at `now`, as two index range reads: stored
    breaches and reviews by the case's closing time (partial index of migration 0020: a closed-cases
    population needs closings in the period; an all-received one closings from its start on, or none yet),
    and open deadlines past their warning time (the board's partial index). A superset of the period is
    harmless: it is only looked up. Conditions are literal so that SQLite uses the partial indexes."""
    settled = Obligation.state.in_([sql_const("breached"), sql_const("review")])
    if p.include_open:
        period = or_(Obligation.case_closed_at >= p.start, Obligation.case_closed_at.is_(None))
    else:
        period = and_(Obligation.case_closed_at >= p.start, Obligation.case_closed_at < p.end)
    ids = {r[0] for r in _plain_rows(session, select(Obligation.case_id).where(settled, period))}
    ids.update(r[0] for r in _plain_rows(session, select(Obligation.case_id).where(
        Obligation.state == sql_const("open"), Obligation.warn_at <= now)))
    return ids


def _plain_rows(session: Session, q) -> list[tuple]:
    """The driver's own row tuples, fetched at once: for the hundreds of thousands of ids and codes of a
    population, building a result Row per row (and fetching row by row) cost more than the query. No type
    processing: instants come as the driver gives them (text on SQLite, naive UTC on PostgreSQL)."""
    result = session.connection().execute(q)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _names(ids: pd.Series, names: dict[int, str]) -> pd.Series:
    """Names for ids; None (not NaN) where there is none, as a join would give."""
    out = ids.map(names).astype(object)
    return out.where(out.notna(), None)


def _ids_by_name(session: Session, model, names: Sequence[str]) -> list[int]:
    return list(session.scalars(select(model.id).where(model.name.in_(list(names)))))


def population(session: Session, p: Population, now: datetime) -> pd.DataFrame:
    """The cases a plan samples from, as of `now`, one row each, in case_id order."""
    basis = Case.received_at if p.include_open else Case.closed_at
    conds = [basis >= p.start, basis < p.end, basis <= now, Case.received_at <= now]
    if not p.include_open:
        conds.append(Case.closed_at.is_not(None))
    if p.teams:
        conds.append(Case.team_id.in_(_ids_by_name(session, Team, p.teams)))
    if p.handlers:
        conds.append(Case.handler_id.in_(_ids_by_name(session, Handler, p.handlers)))
    if p.categories:
        conds.append(Case.category.in_(p.categories))
    if p.channels:
        conds.append(Case.channel.in_(p.channels))
    # Ids and raw instants (text on SQLite); names, months and flags are added column-wise below, which for
    # a month of a large centre (200k cases) is far cheaper than per-row joins, type processing and EXISTS.
    # The case number is looked up for the drawn sample only (`with_case_numbers`).
    q = select(Case.id, Case.team_id, Case.handler_id, Case.category, Case.channel, type_coerce(basis, String)).where(*conds)
    columns = ["case_id", "team_id", "handler_id", "category", "channel", "basis_at"]
    frame = pd.DataFrame.from_records(_plain_rows(session, q), columns=columns)
    if not p.include_assessed:  # cases already assessed (few) are left out here, not by a subquery per case
        assessed = set(session.scalars(select(Assessment.case_id).where(Assessment.purpose == "regular",
                                                                        Assessment.assessed_at <= now)))
        frame = frame[~frame["case_id"].isin(assessed)]
    frame = frame.sort_values("case_id", kind="stable").reset_index(drop=True)
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    handlers = dict(session.execute(select(Handler.id, Handler.name)).all())
    frame.insert(1, "team", _names(frame["team_id"], teams))
    frame.insert(2, "handler", _names(frame["handler_id"], handlers))
    frame["flagged"] = frame["case_id"].isin(_flagged_ids(session, p, now)) if len(frame) else pd.Series(dtype=bool)
    if p.flags == "with":
        frame = frame[frame["flagged"]].reset_index(drop=True)
    elif p.flags == "without":
        frame = frame[~frame["flagged"]].reset_index(drop=True)
    frame["month"] = _months(frame["basis_at"])
    frame["flagged"] = frame["flagged"].astype(bool)
    return frame.drop(columns=["basis_at", "team_id", "handler_id"])


def population_for(session: Session, p: Population, method: Method, scorecard_id: int, now: datetime) -> pd.DataFrame:
    """The population, with each case's automatic score when the method draws by it."""
    frame = population(session, p, now)
    if method.method == "lowest_auto":
        from db.autocheck import auto_scores

        scored = auto_scores(session, frame["case_id"].tolist(), scorecard(session, scorecard_id), now)
        frame = frame.merge(scored[["case_id", "auto_score"]], on="case_id", how="left")
    return frame


def with_case_numbers(session: Session, sample: pd.DataFrame) -> pd.DataFrame:
    """The drawn sample with each case's number (a population leaves it out: 200k lookups for 200 used)."""
    ids = [int(i) for i in sample["case_id"]]
    numbers: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        numbers.update(session.execute(select(Case.id, Case.case_no).where(Case.id.in_(ids[start:start + 900]))).all())
    out = sample.copy()
    out.insert(1, "case_no", [numbers.get(i) for i in ids])
    return out


def _months(instants: pd.Series) -> pd.Series:
    """Local calendar month (YYYY-MM) of each instant, vectorised."""
    if instants.empty:
        return pd.Series([], dtype=str, index=instants.index)
    local = pd.to_datetime(instants, utc=True, format="ISO8601").dt.tz_convert(str(local_zone()))
    codes = local.dt.year * 100 + local.dt.month  # formatting each instant is slow; a month has one label
    return codes.map({c: f"{c // 100}-{c % 100:02d}" for c in codes.unique()})


def digest(case_ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(case_ids)).encode()).hexdigest()[:16]


def create_plan(session: Session, name: str, purpose: str, method: Method, pop: Population, seed: int,
                inspectors: Sequence[str], scorecard_id: int, actor: str, now: datetime,
                sizes: dict[str, int] | None = None, deadline: datetime | None = None,
                threshold: float | None = None) -> tuple[int, int]:
    """Draw and store a sample; returns (plan id, number of items). Nothing is stored when it is empty.
    `sizes`, when given, receives the population's and the sample's sizes (a calibration sample has more
    items than cases: every inspector judges every case). A calibration sample opens a blind calibration
    session led by `actor`, closing at `deadline` (default: a week after drawing)."""
    if purpose not in ("regular", "calibration"):
        raise SampleInvalid(Said("err.inspection.3"))
    if not (name or "").strip():
        raise SampleInvalid(Said("err.inspection.4"))
    if purpose == "calibration" and len(set(inspectors)) < 2:
        raise SampleInvalid(Said("err.inspection.5"))
    frame = population_for(session, pop, method, scorecard_id, now)
    sample = draw(frame, method, seed)
    if sample.empty:
        raise SampleInvalid(Said("err.inspection.6"))
    if sizes is not None:
        sizes.update(population=len(frame), sample=len(sample))
    plan = SamplingPlan(name=name.strip(), purpose=purpose, method=method.method, seed=int(seed), drawn_at=now,
                        population_size=len(frame), scorecard_id=scorecard_id, created_by=actor,
                        params=json.dumps({"population": pop.to_dict(), "method": method.to_dict(),
                                           "inspectors": sorted(set(inspectors)),
                                           "population_digest": digest(frame["case_id"].tolist())},
                                          ensure_ascii=False))
    session.add(plan)
    session.flush()
    strata = dict(zip(sample["case_id"], sample["stratum"]))
    pairs = assign(sample, list(inspectors), int(seed), calibration=purpose == "calibration")
    insert_rows(session, SampleItem.__table__, [{"plan_id": plan.id, "case_id": cid, "assignee": who,
                                                 "stratum": strata[cid] or None, "version": 0} for cid, who in pairs])
    if purpose == "calibration":
        from db.calibration import open_session

        if deadline is not None and deadline <= now:
            raise SampleInvalid(Said("err.calibration.deadline"))
        open_session(session, plan.id, actor, deadline or now + timedelta(days=7),
                     DEFAULT_THRESHOLD if threshold is None else threshold)
    record(session, actor, "draw_sample", "sampling_plan", str(plan.id), None,
           {"name": plan.name, "purpose": purpose, "method": method.to_dict(), "seed": int(seed),
            "population": len(frame), "items": len(pairs)})
    return plan.id, len(pairs)


def redraw(session: Session, plan_id: int) -> tuple[pd.DataFrame, bool]:
    """Draw a stored plan's sample again from its stored definition and seed, as of its drawing time.
    Returns the sample and whether the population is still the one it was drawn from."""
    plan = session.get(SamplingPlan, plan_id)
    params = json.loads(plan.params)
    frame = population_for(session, Population.from_dict(params["population"]), Method(**params["method"]),
                           plan.scorecard_id, plan.drawn_at)
    same = digest(frame["case_id"].tolist()) == params["population_digest"]
    return with_case_numbers(session, draw(frame, Method(**params["method"]), plan.seed)), same


def plans(session: Session) -> list[dict[str, Any]]:
    done = (select(SampleItem.plan_id, func.count(SampleItem.id).label("n_items"),
                   func.count(Assessment.id).label("assessed"))
            .outerjoin(Assessment, Assessment.sample_item_id == SampleItem.id).group_by(SampleItem.plan_id).subquery())
    q = (select(SamplingPlan, done.c.n_items, done.c.assessed).outerjoin(done, done.c.plan_id == SamplingPlan.id)
         .order_by(SamplingPlan.id.desc()))
    out = []
    for plan, items, assessed in session.execute(q):
        params = json.loads(plan.params)
        out.append({"id": plan.id, "name": plan.name, "purpose": plan.purpose, "method": plan.method,
                    "seed": plan.seed, "drawn_at": plan.drawn_at, "population": plan.population_size,
                    "items": items or 0, "assessed": assessed or 0, "created_by": plan.created_by,
                    "inspectors": params.get("inspectors", []), "scorecard_id": plan.scorecard_id})
    return out


def assignments(session: Session, assignee: str | None = None, plan_id: int | None = None,
                only_open: bool = False) -> list[dict[str, Any]]:
    q = (select(SampleItem.id, SampleItem.assignee, SampleItem.stratum, SampleItem.plan_id,
                SamplingPlan.name.label("plan"), SamplingPlan.purpose, Case.case_no, Case.category, Case.channel,
                Handler.name.label("handler"), Team.name.label("team"), Assessment.score, Assessment.passed,
                Assessment.inspector, Assessment.assessed_at)
         .join(SamplingPlan, SamplingPlan.id == SampleItem.plan_id).join(Case, Case.id == SampleItem.case_id)
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .outerjoin(Assessment, Assessment.sample_item_id == SampleItem.id)
         .order_by(SampleItem.plan_id.desc(), Case.case_no, SampleItem.assignee))
    if assignee is not None:
        q = q.where(SampleItem.assignee == assignee)
    if plan_id is not None:
        q = q.where(SampleItem.plan_id == plan_id)
    if only_open:
        q = q.where(Assessment.id.is_(None))
    return [r._asdict() for r in session.execute(q)]


def reassign(session: Session, item_id: int, assignee: str, actor: str) -> None:
    item = session.get(SampleItem, item_id)
    if item is None:
        raise AssessmentRefused(Said("err.inspection.7", item_id=item_id))
    if session.scalar(select(Assessment.id).where(Assessment.sample_item_id == item_id)) is not None:
        raise AssessmentRefused(Said("err.inspection.8"))
    before = item.assignee
    item.assignee = assignee
    session.flush()
    record(session, actor, "reassign_sample_item", "sample_item", str(item_id), {"assignee": before},
           {"assignee": assignee})


# ---------------------------------------------------------------- assessments

def load_item(session: Session, item_id: int) -> dict[str, Any] | None:
    """A sample item with its plan, case number, version, scorecard and (if saved) its assessment."""
    row = session.execute(select(SampleItem, SamplingPlan, Case.case_no)
                          .join(SamplingPlan, SamplingPlan.id == SampleItem.plan_id)
                          .join(Case, Case.id == SampleItem.case_id).where(SampleItem.id == item_id)).first()
    if row is None:
        return None
    item, plan, case_no = row
    out = {"id": item.id, "case_id": item.case_id, "case_no": case_no, "assignee": item.assignee,
           "version": item.version, "plan": plan.name, "plan_id": plan.id, "purpose": plan.purpose,
           "assessment": None}
    a = session.scalar(select(Assessment).where(Assessment.sample_item_id == item_id))
    card_id = a.scorecard_id if a is not None else plan.scorecard_id  # a saved assessment keeps its version
    out["scorecard"] = scorecard(session, card_id)
    if a is not None:
        items = session.scalars(select(AssessmentItem).where(AssessmentItem.assessment_id == a.id))
        out["assessment"] = {"id": a.id, "inspector": a.inspector, "score": a.score, "passed": a.passed,
                             "critical_failed": a.critical_failed, "comment": a.comment, "assessed_at": a.assessed_at,
                             "items": {i.item_key: {"verdict": i.verdict, "engine_verdict": i.engine_verdict,
                                                    "engine_evidence": i.engine_evidence, "reason": i.reason,
                                                    "comment": i.comment} for i in items}}
    return out


def save_assessment(session: Session, item_id: int, expected_version: int, verdicts: dict[str, str],
                    engine: dict[str, str | None], evidence: dict[str, str], reasons: dict[str, str],
                    comments: dict[str, str], comment: str, actor: str, now: datetime | None = None,
                    role: str = "inspector") -> Score:
    """Score and store an assessment (first save or a correction) in one transaction.

    A saved assessment may be changed by the inspector who made it, or by an administrator (audited as an
    override); another inspector is refused, even after reloading."""
    from domain.scorecard import overrides

    now = now or clock.now_precise()
    loaded = load_item(session, item_id)
    if loaded is None:
        raise AssessmentRefused(Said("err.inspection.9", item_id=item_id))
    card = loaded["scorecard"]
    for key, v in verdicts.items():
        if v not in VERDICTS:
            raise AssessmentRefused(Said("err.inspection.13", key=key, v=repr(v), value=', '.join(VERDICTS)))
    unexplained = overrides(card["items"], verdicts, engine, reasons)
    if unexplained:
        raise AssessmentRefused(Said("err.inspection.10", value=unexplained[0]))
    try:
        result = score(card["items"], verdicts, card["pass_mark"])
    except ValueError as exc:
        raise AssessmentRefused(exc.args[0] if exc.args else str(exc)) from None
    bumped = session.execute(update(SampleItem).where(SampleItem.id == item_id,
                                                      SampleItem.version == expected_version)
                             .values(version=SampleItem.version + 1).execution_options(synchronize_session=False))
    if bumped.rowcount != 1:
        who = loaded["assessment"]["inspector"] if loaded["assessment"] else "someone"
        raise StaleAssessment(Said("err.inspection.11", case_no=loaded['case_no'], who=display_name(session, who)))
    if loaded["purpose"] == "calibration":
        from db.calibration import closed_for_plan

        if closed_for_plan(session, loaded["plan_id"], now):
            raise AssessmentRefused(Said("err.calibration.frozen"))
    previous = loaded["assessment"]
    if previous is not None and previous["inspector"] != actor and role != "admin":
        raise AssessmentRefused(Said("err.inspection.12", case_no=loaded['case_no'],
                                     inspector=display_name(session, previous['inspector'])))
    case = session.get(Case, loaded["case_id"])
    before = loaded["assessment"]
    existing = session.scalar(select(Assessment).where(Assessment.sample_item_id == item_id))
    if existing is not None:  # a correction replaces the earlier scores (the audit row keeps them)
        session.execute(delete(AssessmentItem).where(AssessmentItem.assessment_id == existing.id))
        session.delete(existing)
        session.flush()
    a = Assessment(sample_item_id=item_id, case_id=case.id, scorecard_id=card["id"], inspector=actor,
                   purpose=loaded["purpose"], handler_id=case.handler_id, team_id=case.team_id,
                   score=result.score, passed=result.passed, critical_failed=result.critical_failed,
                   comment=(comment or "").strip() or None, assessed_at=now)
    session.add(a)
    session.flush()
    insert_rows(session, AssessmentItem.__table__, [
        {"assessment_id": a.id, "item_key": i["key"], "clause": i["clause"], "verdict": verdicts[i["key"]],
         "engine_verdict": engine.get(i["key"]), "engine_evidence": evidence.get(i["key"]) or None,
         "reason": (reasons.get(i["key"]) or "").strip() or None,
         "comment": (comments.get(i["key"]) or "").strip() or None} for i in card["items"]])
    overriding = before is not None and before["inspector"] != actor
    record(session, actor, "assess_override" if overriding else "assess", "case", loaded["case_no"],
           None if before is None else {"score": before["score"], "inspector": before["inspector"]},
           {"sample_item": item_id, "scorecard": f"{card['name']} v{card['version']}", "score": result.score,
            "passed": result.passed, "verdicts": verdicts})
    return result


# ---------------------------------------------------------------- results and calibration

def assessment_rows(session: Session, start: datetime | None = None, end: datetime | None = None,
                    purpose: str | None = "regular") -> pd.DataFrame:
    """One row per assessment with handler, team and local month (calibration kept apart by default)."""
    q = (select(Assessment.id, Assessment.case_id, Case.case_no, Assessment.inspector, Assessment.purpose,
                Handler.name.label("handler"), Team.name.label("team"), Assessment.score, Assessment.passed,
                Assessment.critical_failed, Assessment.assessed_at)
         .join(Case, Case.id == Assessment.case_id).outerjoin(Handler, Handler.id == Assessment.handler_id)
         .outerjoin(Team, Team.id == Assessment.team_id).order_by(Assessment.assessed_at))
    if purpose is not None:
        q = q.where(Assessment.purpose == purpose)
    if start is not None:
        q = q.where(Assessment.assessed_at >= start)
    if end is not None:
        q = q.where(Assessment.assessed_at < end)
    cols = ["id", "case_id", "case_no", "inspector", "purpose", "handler", "team", "score", "passed",
            "critical_failed", "assessed_at"]
    frame = pd.DataFrame.from_records(session.execute(q).all(), columns=cols)
    frame["month"] = _months(frame["assessed_at"])
    return frame


def item_rows(session: Session, assessment_ids: Sequence[int]) -> pd.DataFrame:
    cols = ["assessment_id", "item_key", "clause", "verdict", "engine_verdict"]
    if len(assessment_ids) == 0:
        return pd.DataFrame(columns=cols)
    rows = []
    ids = list(assessment_ids)
    for n in range(0, len(ids), 900):
        q = (select(AssessmentItem.assessment_id, AssessmentItem.item_key, AssessmentItem.clause,
                    AssessmentItem.verdict, AssessmentItem.engine_verdict)
             .where(AssessmentItem.assessment_id.in_(ids[n:n + 900])))
        rows += [r._asdict() for r in session.execute(q)]
    return pd.DataFrame(rows, columns=cols)


def calibration_rows(session: Session, now: datetime | None = None) -> pd.DataFrame:
    """Item verdicts of every case assessed by two or more inspectors (any purpose), leaving out the
    answers of calibration sessions still open as of `now` (they are blind until they close)."""
    from db.calibration import CalibrationSession

    now = now or clock.now_precise()
    still_blind = (select(SampleItem.id).join(CalibrationSession, CalibrationSession.plan_id == SampleItem.plan_id)
                   .where(CalibrationSession.closed_at.is_(None), CalibrationSession.deadline > now))
    visible = select(Assessment.id).where(Assessment.sample_item_id.not_in(still_blind))
    multi = (select(Assessment.case_id).where(Assessment.id.in_(visible)).group_by(Assessment.case_id)
             .having(func.count(func.distinct(Assessment.inspector)) >= 2).subquery())
    q = (select(Case.case_no, Assessment.inspector, AssessmentItem.item_key, AssessmentItem.clause,
                AssessmentItem.verdict, Assessment.assessed_at)
         .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
         .join(Case, Case.id == Assessment.case_id).where(Assessment.case_id.in_(select(multi.c.case_id)),
                                                          Assessment.id.in_(visible))
         .order_by(Case.case_no, AssessmentItem.item_key, Assessment.inspector))
    cols = ["case_no", "inspector", "item_key", "clause", "verdict", "assessed_at"]
    return pd.DataFrame([r._asdict() for r in session.execute(q)], columns=cols)


def load_plan_card(session: Session, plan_id: int) -> dict[str, Any]:
    """The scorecard a plan was drawn with."""
    plan = session.get(SamplingPlan, plan_id)
    return scorecard(session, plan.scorecard_id)


def inspectors(session: Session) -> list[str]:
    from db.models import User

    return list(session.scalars(select(User.username).where(User.role == "inspector", User.active.is_(True))
                                .order_by(User.username)))


def handler_names(session: Session) -> list[str]:
    return list(session.scalars(select(Handler.name).order_by(Handler.name)))
