"""The clustered problem list (10.2.2): runs over the stored complaints, the assignment of new ones, and the
manager's rename, merge and split. Method and measurements: domain/clustering.py, docs/improvement.md."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Sequence

import numpy as np
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from db.audit import record
from db.locks import exclusive
from db.models import Case, CaseCluster, Cluster, ClusterModel, Handler, Obligation, Team
from domain.clustering import Model, case_text, centroids_of, cluster, match_by_members, template_sentences, words, \
    words_of_all
from domain.deid import scrub_text
from domain.i18n import Said
from domain.roles import require
from domain.timeutil import utcnow

MIN_SPLIT = 4
_BATCH = 5000


class ClusterRefused(ValueError):
    """A change to the clusters that cannot be made (the message says why)."""


def _texts(session: Session, category: str | None = None, ids: Sequence[int] | None = None) -> list:
    q = select(Case.id, Case.category, Case.description, Case.true_reason, Case.customer_demand)
    if category:
        q = q.where(Case.category == category)
    if ids is not None:
        q = q.where(Case.id.in_(list(ids)))
    return session.execute(q.order_by(Case.id)).all()


def _members(session: Session, category: str, pinned: bool | None = None) -> dict[int, set[int]]:
    q = (select(CaseCluster.cluster_id, CaseCluster.case_id).join(Cluster, Cluster.id == CaseCluster.cluster_id)
         .where(Cluster.category == category, Cluster.active.is_(True)))
    if pinned is not None:
        q = q.where(Cluster.pinned.is_(pinned))
    out: dict[int, set[int]] = {}
    for cid, case_id in session.execute(q):
        out.setdefault(cid, set()).add(case_id)
    return out


def run(session: Session, actor: str, role: str | None, now: datetime, seed: int = 0, processes: int = 2) -> dict:
    """Cluster every category's complaints again. Clusters keep their ids (a new cluster continues the earlier
    one holding most of its cases); pinned clusters (a manager's merge or split) keep their members; earlier
    clusters nothing continues are retired. Returns {category: number of active clusters}."""
    require(role, "edit_improvement")
    exclusive(session, "clusters")  # one run at a time (a page and a nightly job may start together)
    rows = _texts(session)
    by_cat: dict[str, list] = {}
    for r in rows:
        by_cat.setdefault(r.category, []).append(r)
    template = template_sentences({c: [case_text(r.description, r.true_reason, r.customer_demand) for r in rs]
                                   for c, rs in by_cat.items()})
    summary = {}
    for category, rs in sorted(by_cat.items()):
        summary[category] = _run_category(session, category, rs, template, now, seed, processes)
    record(session, actor, "cluster_run", "clusters", None, None, {"cases": len(rows), "clusters": summary})
    return summary


def _run_category(session: Session, category: str, rows: list, template: set[str], now: datetime, seed: int,
                  processes: int) -> int:
    pinned = _members(session, category, pinned=True)
    held = {c for cases in pinned.values() for c in cases}
    free = [r for r in rows if r.id not in held]
    docs_all = words_of_all([case_text(r.description, r.true_reason, r.customer_demand) for r in rows], template,
                            processes)
    doc_of = {r.id: d for r, d in zip(rows, docs_all)}
    free_docs = [doc_of[r.id] for r in free]
    result = cluster(free_docs, seed=seed) if free_docs else None
    old = _members(session, category, pinned=False)
    ids: dict[int, int] = {}
    if result is not None:
        new_members: dict[int, set[int]] = {}
        for r, label in zip(free, result.labels):
            new_members.setdefault(int(label), set()).add(r.id)
        ids = match_by_members(new_members, old)
        for label in sorted(new_members):
            if label not in ids:
                c = Cluster(category=category, terms="[]", size=0, pinned=False, active=True, created_at=now,
                            updated_at=now)
                session.add(c)
                session.flush()
                ids[label] = c.id
        for gone in set(old) - set(ids.values()):
            row = session.get(Cluster, gone)
            row.active, row.updated_at = False, now
    model = result.model if result is not None else None
    pinned_cases = (select(CaseCluster.case_id).join(Cluster, Cluster.id == CaseCluster.cluster_id)
                    .where(Cluster.category == category, Cluster.pinned.is_(True), Cluster.active.is_(True)))
    session.execute(delete(CaseCluster).where(CaseCluster.case_id.in_(
        select(Case.id).where(Case.category == category, Case.id.not_in(pinned_cases)))))
    payload = []
    order: list[int] = []
    if model is not None:
        z = model.project(model.vectors(free_docs))
        for label in sorted(set(int(v) for v in result.labels)):
            order.append(ids[label])
        sims = (z * model.centroids[result.labels]).sum(axis=1)
        for r, label, sim in zip(free, result.labels, sims):
            payload.append({"case_id": r.id, "cluster_id": ids[int(label)], "score": float(sim), "how": "run",
                            "assigned_at": now})
        for label, terms in zip(sorted(set(int(v) for v in result.labels)), result.top_terms):
            c = session.get(Cluster, ids[label])
            c.terms, c.active, c.updated_at = json.dumps(terms, ensure_ascii=False), True, now
            c.size = int((result.labels == label).sum())
        # pinned clusters join the model: their centre in this run's space, from their members
        extra = []
        for cid, cases in sorted(pinned.items()):
            zc = model.embed([doc_of[c] for c in sorted(cases) if c in doc_of])
            if len(zc):
                extra.append(centroids_of(zc, np.zeros(len(zc), dtype=int))[0])
                order.append(cid)
                session.get(Cluster, cid).size = len(cases)
        if extra:
            model.centroids = np.vstack([model.centroids, *extra])
    for start in range(0, len(payload), _BATCH):
        session.execute(insert(CaseCluster), payload[start:start + _BATCH])
    if model is not None:
        model.template = template
        _save_model(session, category, model, order, now)
    session.flush()
    return len(order)


def _save_model(session: Session, category: str, model: Model, order: Sequence[int], now: datetime) -> None:
    body = json.dumps({**model.to_dict(), "ids": list(order)}, ensure_ascii=False)
    row = session.get(ClusterModel, category)
    if row is None:
        session.add(ClusterModel(category=category, body=body, run_at=now))
    else:
        row.body, row.run_at = body, now


_MODELS: dict[tuple, tuple[Model, list[int]]] = {}  # per process: a model is read and parsed once per run


def stored_model(session: Session, category: str) -> tuple[Model, list[int]] | None:
    """The last run's model of a category, parsed once per process and run (the body is a few MB at 100k
    cases: its run time and length are read first, the body only when they are new)."""
    head = session.execute(select(ClusterModel.run_at, func.length(ClusterModel.body))
                           .where(ClusterModel.category == category)).one_or_none()
    if head is None:
        return None
    key = (str(session.get_bind().url), category, head[0], head[1])
    if key not in _MODELS:
        d = json.loads(session.scalar(select(ClusterModel.body).where(ClusterModel.category == category)))
        for old in [k for k in _MODELS if k[:2] == key[:2]]:
            del _MODELS[old]
        _MODELS[key] = (Model.from_dict(d), list(d["ids"]))
    return _MODELS[key]


def assign_new(session: Session, now: datetime, limit: int | None = None, case_ids: Sequence[int] | None = None) -> int:
    """Put cases without a cluster into their nearest one (by the last run's model of their category), without
    a new run: the given cases, else those registered after the newest clustered one (case ids only grow; a
    run covers every case before it). Returns how many were assigned."""
    if case_ids is not None:
        missing = (select(Case.id).outerjoin(CaseCluster, CaseCluster.case_id == Case.id)
                   .where(Case.id.in_(list(case_ids)), CaseCluster.case_id.is_(None)))
    else:
        newest = session.scalar(select(func.max(CaseCluster.case_id)))
        if newest is None:
            return 0  # never clustered: nothing to assign to
        missing = select(Case.id).where(Case.id > newest).order_by(Case.id)
    if limit:
        missing = missing.limit(limit)
    ids = list(session.scalars(missing))
    if not ids:
        return 0
    done = 0
    sizes: Counter = Counter()
    for r in _texts(session, ids=ids):
        found = stored_model(session, r.category)
        if found is None:
            continue
        model, order = found
        index, score = model.assign(words(case_text(r.description, r.true_reason, r.customer_demand), model.template))
        if index < 0:
            continue
        session.add(CaseCluster(case_id=r.id, cluster_id=order[index], score=score, how="assign", assigned_at=now))
        sizes[order[index]] += 1
        done += 1
    for cid, n in sizes.items():
        c = session.get(Cluster, cid)
        c.size += n
    session.flush()
    return done


def _active(session: Session, cluster_id: int) -> Cluster:
    c = session.get(Cluster, cluster_id)
    if c is None or not c.active:
        raise ClusterRefused(Said("err.cluster.none", cluster_id=cluster_id))
    return c


def rename(session: Session, cluster_id: int, name: str, actor: str, role: str | None, now: datetime) -> None:
    require(role, "edit_improvement")
    c = _active(session, cluster_id)
    name = (name or "").strip()[:200]
    old = c.name
    c.name, c.updated_at = name or None, now
    record(session, actor, "rename_cluster", "cluster", str(cluster_id), {"name": old}, {"name": c.name})


def merge(session: Session, cluster_ids: Sequence[int], actor: str, role: str | None, now: datetime) -> int:
    """Join clusters of one category into the largest of them (which keeps its id and name, and is pinned so
    later runs keep the decision). Returns the id kept."""
    require(role, "edit_improvement")
    wanted = list(dict.fromkeys(int(i) for i in cluster_ids))
    if len(wanted) < 2:
        raise ClusterRefused(Said("err.cluster.merge_two"))
    rows = [_active(session, i) for i in wanted]
    if len({c.category for c in rows}) > 1:
        raise ClusterRefused(Said("err.cluster.merge_category"))
    keep = max(rows, key=lambda c: (c.size, -c.id))
    others = [c for c in rows if c.id != keep.id]
    session.execute(CaseCluster.__table__.update().where(CaseCluster.cluster_id.in_([c.id for c in others]))
                    .values(cluster_id=keep.id, how="manual", assigned_at=now))
    for c in others:
        c.active, c.merged_into, c.updated_at = False, keep.id, now
    keep.size = session.scalar(select(func.count()).select_from(CaseCluster).where(CaseCluster.cluster_id == keep.id))
    keep.pinned, keep.updated_at = True, now
    _refit_centres(session, keep.category)
    record(session, actor, "merge_clusters", "cluster", str(keep.id), None, {"kept": keep.id, "merged": [c.id for c in others]})
    return keep.id


def split(session: Session, cluster_id: int, actor: str, role: str | None, now: datetime, seed: int = 0) -> list[int]:
    """Divide a cluster in two by k-means over its members; both halves are new pinned clusters and the old
    one is retired. Returns the new ids."""
    require(role, "edit_improvement")
    c = _active(session, cluster_id)
    found = stored_model(session, c.category)
    members = sorted(session.scalars(select(CaseCluster.case_id).where(CaseCluster.cluster_id == cluster_id)))
    if found is None or len(members) < MIN_SPLIT:
        raise ClusterRefused(Said("err.cluster.split_small", n=MIN_SPLIT))
    model, _order = found
    rows = _texts(session, ids=members)
    # fitted on the members alone: their own vocabulary tells their two themes apart better than the space
    # of the whole category, where they were close enough to be one cluster
    docs = [words(case_text(r.description, r.true_reason, r.customer_demand), model.template) for r in rows]
    labels = cluster(docs, k=2, seed=seed, join=False).labels
    if len(set(int(v) for v in labels)) < 2:
        raise ClusterRefused(Said("err.cluster.split_same"))
    new_ids = []
    for half in (0, 1):
        part = [r.id for r, label in zip(rows, labels) if int(label) == half]
        n = Cluster(category=c.category, name=None, terms=c.terms, size=len(part), pinned=True, active=True,
                    created_at=now, updated_at=now)
        session.add(n)
        session.flush()
        session.execute(CaseCluster.__table__.update().where(CaseCluster.case_id.in_(part))
                        .values(cluster_id=n.id, how="manual", assigned_at=now))
        new_ids.append(n.id)
    c.active, c.updated_at = False, now
    _refit_centres(session, c.category)
    _retitle(session, new_ids)
    record(session, actor, "split_cluster", "cluster", str(cluster_id), None, {"into": new_ids})
    return new_ids


def _refit_centres(session: Session, category: str) -> None:
    """After a merge or split: the model's centroids are the active clusters' members' centres (same space)."""
    found = stored_model(session, category)
    if found is None:
        return
    model, _order = found
    members = _members(session, category)
    docs = {r.id: words(case_text(r.description, r.true_reason, r.customer_demand), model.template)
            for r in _texts(session, category=category, ids=[c for cs in members.values() for c in cs])}
    order, rows = [], []
    for cid, cases in sorted(members.items()):
        z = model.embed([docs[c] for c in sorted(cases) if c in docs])
        if len(z):
            rows.append(centroids_of(z, np.zeros(len(z), dtype=int))[0])
            order.append(cid)
    refit = Model(model.vocabulary, model.idf, np.vstack(rows) if rows else model.centroids[:0], model.components,
                  model.template)
    # a new time: the model cached by every process (keyed by time and length) is read again
    latest = session.get(ClusterModel, category).run_at
    _save_model(session, category, refit, order, max(utcnow(), latest + timedelta(microseconds=1)))


def _retitle(session: Session, cluster_ids: Sequence[int]) -> None:
    """Top words of clusters made by hand, from their members."""
    for cid in cluster_ids:
        c = session.get(Cluster, cid)
        found = stored_model(session, c.category)
        if found is None:
            continue
        model, _ = found
        members = list(session.scalars(select(CaseCluster.case_id).where(CaseCluster.cluster_id == cid)))
        x = model.vectors([words(case_text(r.description, r.true_reason, r.customer_demand), model.template)
                           for r in _texts(session, ids=members)])
        mean = np.asarray(x.mean(axis=0)).ravel()
        terms = {i: w for w, i in model.vocabulary.items()}
        c.terms = json.dumps([terms[j] for j in np.argsort(-mean)[:8] if mean[j] > 0], ensure_ascii=False)


def cluster_list(session: Session, now: datetime, category: str | None = None, weeks: int = 8,
                 teams: Sequence[str] = ()) -> list[dict]:
    """Active clusters, largest first, each with its words, size, cases per week (the last `weeks`), share of
    cases with a missed deadline, share of dissatisfied customers, most affected teams, and three
    representative cases (closest to the centre; their text de-identified)."""
    q = select(Cluster).where(Cluster.active.is_(True))
    if category:
        q = q.where(Cluster.category == category)
    clusters = session.scalars(q).all()
    if not clusters:
        return []
    ids = [c.id for c in clusters]
    member_q = (select(CaseCluster.cluster_id, CaseCluster.case_id, CaseCluster.score, Case.case_no, Case.received_at,
                       Case.satisfaction, Team.name.label("team"))
                .join(Case, Case.id == CaseCluster.case_id).outerjoin(Team, Team.id == Case.team_id)
                .where(CaseCluster.cluster_id.in_(ids)))
    if teams:
        member_q = member_q.where(Team.name.in_(list(teams)))
    members = session.execute(member_q).all()
    missed = set(session.scalars(
        select(Obligation.case_id).join(CaseCluster, CaseCluster.case_id == Obligation.case_id)
        .where(CaseCluster.cluster_id.in_(ids),
               or_(Obligation.state == "breached", (Obligation.state == "open") & (Obligation.due_at < now)))
        .distinct()))
    start = now - timedelta(weeks=weeks)
    out = []
    by_cluster: dict[int, list] = {}
    for m in members:
        by_cluster.setdefault(m.cluster_id, []).append(m)
    for c in clusters:
        ms = by_cluster.get(c.id, [])
        if not ms:
            continue
        week = Counter(min(weeks - 1, int((m.received_at - start).days // 7)) for m in ms if m.received_at >= start)
        best = sorted(ms, key=lambda m: -m.score)[:3]
        out.append({
            "id": c.id, "category": c.category, "name": c.name, "terms": json.loads(c.terms or "[]"), "size": len(ms),
            "pinned": c.pinned, "weekly": [week.get(i, 0) for i in range(weeks)],
            "missed_share": sum(1 for m in ms if m.case_id in missed) / len(ms),
            "dissatisfied_share": sum(1 for m in ms if m.satisfaction == "dissatisfied") / len(ms),
            "teams": Counter(m.team or "" for m in ms).most_common(3),
            "examples": [m.case_no for m in best],
        })
    out.sort(key=lambda r: (-r["size"], r["id"]))
    return out


def examples(session: Session, case_nos: Sequence[str]) -> list[dict]:
    """Representative cases with their text de-identified (a trainer-safe view: no customer name or number)."""
    rows = session.execute(select(Case.case_no, Case.subcategory, Case.description, Case.customer_name,
                                  Handler.name.label("handler"))
                           .join(Handler, Handler.id == Case.handler_id).where(Case.case_no.in_(list(case_nos)))).all()
    order = {n: i for i, n in enumerate(case_nos)}
    return sorted(({"case_no": r.case_no, "subcategory": r.subcategory or "", "handler": r.handler,
                    "text": scrub_text(r.description or "", [r.customer_name] if r.customer_name else [])}
                   for r in rows), key=lambda e: order[e["case_no"]])


def cluster_case_nos(session: Session, cluster_id: int, limit: int = 50) -> list[str]:
    """The cluster's cases closest to its centre first (to link a new problem to)."""
    return list(session.scalars(select(Case.case_no).join(CaseCluster, CaseCluster.case_id == Case.id)
                                .where(CaseCluster.cluster_id == cluster_id)
                                .order_by(CaseCluster.score.desc(), Case.id).limit(limit)))


def last_run(session: Session) -> datetime | None:
    return session.scalar(select(func.max(ClusterModel.run_at)))


def list_stamp(session: Session) -> tuple:
    """What the cluster list depends on, cheaply: any rename, merge, split or run (clusters' updated_at) and
    any new member (the membership count). A page may keep the list until this changes."""
    return (session.scalar(select(func.max(Cluster.updated_at))), session.scalar(select(func.count()).select_from(CaseCluster)))
