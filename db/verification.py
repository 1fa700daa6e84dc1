"""The data-verification list (10.2.2): run the checks of domain.verification over the stored complaints,
keep their findings, and record a manager's decision on each (audited)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from db.audit import record
from db.clusters import stored_model
from db.models import Case, CaseCluster, Cluster, Contact, CustomerKey, Handler, User, VerificationItem
from db.repeats import refresh_keys
from domain.clustering import Model, case_text, fit_vocabulary, words_of_all
from domain.i18n import Said
from domain.roles import require
from domain.timeutil import fmt_local
from domain.verification import CHECKS, DECISIONS, duplicates, reads_like

MAX_NOTE = 2000
MIN_EVIDENCE = 3


class VerificationRefused(ValueError):
    """A decision that cannot be recorded (the message says why)."""


def _findings(session: Session, now: datetime) -> dict[str, dict[str, tuple[int | None, dict]]]:
    """check -> key -> (case id, detail)."""
    out: dict[str, dict[str, tuple[int | None, dict]]] = {c: {} for c in CHECKS}
    for case_id, case_no, contact_at, kind, received in session.execute(
            select(Case.id, Case.case_no, Contact.contact_at, Contact.kind, Case.received_at)
            .join(Contact, Contact.case_id == Case.id).where(Contact.contact_at < Case.received_at)
            .order_by(Contact.contact_at)):
        out["contact_before_received"].setdefault(case_no, (case_id, {"contact_at": fmt_local(contact_at), "kind": kind,
                                                                      "received_at": fmt_local(received)}))
    final = exists().where(and_(Contact.case_id == Case.id, Contact.kind == "final"))
    for case_id, case_no, closed in session.execute(
            select(Case.id, Case.case_no, Case.closed_at)
            .where(Case.closed_at.is_not(None), Case.acceptance == "accepted", ~final)):
        out["closed_no_final"][case_no] = (case_id, {"closed_at": fmt_local(closed)})
    for case_id, case_no, satisfaction in session.execute(
            select(Case.id, Case.case_no, Case.satisfaction)
            .where(Case.satisfaction.is_not(None), Case.survey_at.is_(None))):
        out["satisfaction_no_survey"][case_no] = (case_id, {"satisfaction": satisfaction})
    refresh_keys(session)
    frame = pd.DataFrame(session.execute(
        select(Case.id.label("case_id"), Case.case_no, CustomerKey.customer_key, Case.category, Case.received_at,
               Case.description).join(CustomerKey, CustomerKey.case_id == Case.id)).all(),
        columns=["case_id", "case_no", "customer_key", "category", "received_at", "description"])
    numbers = dict(zip(frame["case_id"], frame["case_no"]))
    for later, earlier in duplicates(frame):
        out["duplicate"][numbers[later]] = (later, {"of": numbers[earlier]})
    on_roster = exists().where(and_(User.handler_id == Handler.id, User.active.is_(True), User.role == "handler"))
    for name, cases in session.execute(
            select(Handler.name, func.count(Case.id)).join(Case, Case.handler_id == Handler.id)
            .where(~on_roster).group_by(Handler.name)):
        out["handler_not_on_roster"][name] = (None, {"cases": int(cases)})
    out["category_text"] = _category_text(session)
    return out


def _category_text(session: Session) -> dict[str, tuple[int | None, dict]]:
    """Cases whose text is clearly closer to another category's problem clusters than to their own category's.
    One TF-IDF space over every clustered case, so all similarities compare; a case's own cluster is taken
    without the case itself (a misfiled case often forms a cluster of one). Needs a clustering run."""
    rows = session.execute(
        select(Case.id, Case.case_no, Case.category, Case.description, Case.true_reason, Case.customer_demand,
               CaseCluster.cluster_id).join(CaseCluster, CaseCluster.case_id == Case.id)
        .join(Cluster, Cluster.id == CaseCluster.cluster_id).where(Cluster.active.is_(True))).all()
    if len({r.category for r in rows}) < 2:
        return {}
    found = stored_model(session, rows[0].category)
    template = found[0].template if found else set()
    docs = words_of_all([case_text(r.description, r.true_reason, r.customer_demand) for r in rows], template,
                        processes=1)
    vocabulary, idf = fit_vocabulary(docs)
    x = Model(vocabulary, idf, np.zeros((0, len(vocabulary)))).vectors(docs)
    clusters = sorted({r.cluster_id for r in rows})
    column = {c: j for j, c in enumerate(clusters)}
    category_of = {r.cluster_id: r.category for r in rows}
    member = np.array([column[r.cluster_id] for r in rows])
    sums = np.vstack([np.asarray(x[member == j].sum(axis=0)).ravel() for j in range(len(clusters))])
    norm2 = (sums ** 2).sum(axis=1)
    dots = np.asarray(x @ sums.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        sims = dots / np.sqrt(norm2)[None, :]
        own_loo = (dots[np.arange(len(rows)), member] - 1) / np.sqrt(norm2[member] - 2 * dots[np.arange(len(rows)), member] + 1)
    sims = np.nan_to_num(sims)
    own_loo = np.nan_to_num(own_loo)
    same = np.array([[category_of[c] == r.category for c in clusters] for r in rows])
    # a cluster of one or two (often a misfiled case by itself) is no evidence of what another category reads like
    sizes = np.bincount(member, minlength=len(clusters))
    evidence = sizes >= MIN_EVIDENCE
    out = {}
    for i, r in enumerate(rows):
        mine = sims[i].copy()
        mine[member[i]] = own_loo[i]
        own = float(np.max(np.where(same[i], mine, -1.0)))
        other_scores = np.where(~same[i] & evidence, sims[i], -1.0)
        j = int(other_scores.argmax())
        if reads_like(own, float(other_scores[j])):
            out[r.case_no] = (r.id, {"category": r.category, "reads_like": category_of[clusters[j]],
                                     "own": round(own, 2), "other": round(float(other_scores[j]), 2)})
    return out


def run_checks(session: Session, actor: str, role: str | None, now: datetime) -> dict[str, int]:
    """Run every check: new findings are added (open), findings seen again keep their decision, open findings
    not found again are marked gone. Returns the open findings per check."""
    require(role, "edit_improvement")
    found = _findings(session, now)
    existing = {(i.check_name, i.key): i for i in session.scalars(select(VerificationItem))}
    for check, items in found.items():
        for key, (case_id, detail) in items.items():
            item = existing.get((check, key))
            if item is None:
                session.add(VerificationItem(check_name=check, key=key[:120], case_id=case_id,
                                             detail=json.dumps(detail, ensure_ascii=False), state="open",
                                             found_at=now, last_seen_at=now))
            else:
                item.detail, item.last_seen_at = json.dumps(detail, ensure_ascii=False), now
                if item.state == "gone":
                    item.state = "open"
    for (check, key), item in existing.items():
        if key not in found.get(check, {}) and item.state == "open":
            item.state = "gone"
    session.flush()
    counts = {c: 0 for c in CHECKS}
    for check, n in session.execute(select(VerificationItem.check_name, func.count())
                                    .where(VerificationItem.state == "open").group_by(VerificationItem.check_name)):
        counts[check] = n
    record(session, actor, "run_verification", "verification", None, None, counts)
    return counts


def items(session: Session, states: Sequence[str] = ("open",), checks: Sequence[str] = ()) -> list[dict]:
    q = select(VerificationItem).order_by(VerificationItem.check_name, VerificationItem.found_at.desc(),
                                          VerificationItem.key)
    if states:
        q = q.where(VerificationItem.state.in_(list(states)))
    if checks:
        q = q.where(VerificationItem.check_name.in_(list(checks)))
    return [{"id": i.id, "check": i.check_name, "key": i.key, "detail": json.loads(i.detail), "state": i.state,
             "found_at": i.found_at, "note": i.note or "", "decided_by": i.decided_by, "decided_at": i.decided_at}
            for i in session.scalars(q)]


def decide(session: Session, item_id: int, decision: str, note: str, actor: str, role: str | None,
           now: datetime) -> None:
    """Confirm a finding (the data is wrong), mark it corrected upstream, or dismiss it (a note is required
    to dismiss: someone will ask why)."""
    require(role, "edit_improvement")
    item = session.get(VerificationItem, item_id)
    if item is None:
        raise VerificationRefused(Said("err.verify.none", item_id=item_id))
    if decision not in DECISIONS:
        raise VerificationRefused(Said("err.verify.decision"))
    note = (note or "").strip()[:MAX_NOTE]
    if decision == "dismissed" and not note:
        raise VerificationRefused(Said("err.verify.note"))
    old = {"state": item.state, "note": item.note}
    item.state, item.note, item.decided_by, item.decided_at = decision, note or None, actor, now
    record(session, actor, "decide_verification", "verification", str(item_id), old,
           {"check": item.check_name, "key": item.key, "state": decision, "note": note or None})
