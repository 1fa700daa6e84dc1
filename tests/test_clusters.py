"""The clustered problem list (#16 item 1): the method's quality on the labelled set, template removal, cluster
identity across runs, assignment of new cases, rename, merge, split, roles, and a problem counting its
cluster — on both databases."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from db.clusters import ClusterRefused, assign_new, cluster_list, merge, rename, run, split
from db.importer import import_files
from db.models import Case, CaseCluster, Cluster, Problem
from db.problems import check_effect, create_problem, problem_detail
from db.session import session_scope
from domain.clustering import case_text, cluster, match_by_members, purity, scores, template_sentences, words
from domain.roles import Forbidden
from tests.helpers import case_row, write_csv

UTC = timezone.utc
EVAL = Path(__file__).resolve().parent / "data" / "clusters" / "eval.jsonl"
ROWS = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]


def text_of(r):
    return case_text(r["description"], r["true_reason"], r["customer_demand"])


def test_the_chosen_method_finds_the_labelled_problems():
    """ARI/NMI/purity on the whole labelled set (660 texts, 12 problems): the figures docs and the benchmark
    report, with a margin."""
    cats: dict[str, list] = {}
    for r in ROWS:
        cats.setdefault(r["category"], []).append(r)
    template = template_sentences({c: [text_of(r) for r in rs] for c, rs in cats.items()})
    assert "已安抚客户情绪" in template and not any("信号" in s or "宽带" in s for s in template)
    truth, found = [], []
    for c, rs in cats.items():
        labels = cluster([words(text_of(r), template) for r in rs]).labels
        truth += [f"{c}:{r['label']}" for r in rs]
        found += [f"{c}:{v}" for v in labels]
    s = scores(truth, found)
    assert s["ari"] >= 0.95 and s["nmi"] >= 0.95 and s["purity"] >= 0.95, s


def test_the_small_pieces():
    assert purity(["a", "a", "b", "b"], [0, 0, 0, 1]) == 0.75
    assert template_sentences({"network": ["客户来电反映。信号差"]}) == set()  # one category: nothing to tell apart
    # new cluster 10 holds mostly old 1's cases; 11 and 12 both lean to old 2: the larger keeps it, 12 is new
    mapping = match_by_members({10: {1, 2, 3}, 11: {4, 5, 6, 7}, 12: {8, 9}, 13: {100}},
                               {1: {1, 2, 3}, 2: {4, 5, 6, 7, 8, 9}})
    assert mapping == {10: 1, 11: 2}
    assert words("【受理渠道】10086 客户王建国来电：宽带断网138元") == ["宽带", "断网"]  # no label, no digits, no name


FIRST = datetime(2026, 3, 2, 9, 0)  # local wall-clock times in the file


def _cases(n_per: int = 30):
    """Cases of three network and two service problems from the labelled set, one a day in turn."""
    wanted = {"broadband_drops", "indoor_signal", "slow_data", "hall_attitude", "hotline"}
    picked, seen = [], {}
    for r in ROWS:
        if r["label"] in wanted and seen.get(r["label"], 0) < n_per:
            seen[r["label"]] = seen.get(r["label"], 0) + 1
            picked.append(r)
    rows = []
    for i, r in enumerate(picked):
        at = FIRST + timedelta(hours=7 * i)
        rows.append(case_row(f"K{i:03d}", received_at=at.strftime("%Y-%m-%d %H:%M"),
                             promised_reply_at=(at + timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
                             category=r["category"], subcategory=r["label"], description=r["description"],
                             true_reason=r["true_reason"], customer_demand=r["customer_demand"],
                             customer_phone=f"1390000{i:04d}", team="一组" if i % 2 else "二组"))
    return rows


def _membership(s) -> dict[str, int]:
    return dict(s.execute(select(Case.case_no, CaseCluster.cluster_id).join(CaseCluster, CaseCluster.case_id == Case.id)).all())


def _labels(rows) -> dict[str, str]:
    return {r["case_no"]: r["subcategory"] for r in rows}


@pytest.fixture
def clustered(db_url, tmp_path):
    rows = _cases()
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=datetime(2026, 4, 11, tzinfo=UTC)).ok
    now = datetime(2026, 5, 1, tzinfo=UTC)
    with session_scope(db_url) as s:
        summary = run(s, "boss", "manager", now, processes=1)
    return db_url, rows, summary, now


def test_a_run_finds_the_problems_and_a_second_run_keeps_their_ids(clustered, tmp_path):
    url, rows, summary, now = clustered
    # 3 network and 2 service problems; at this size a sub-theme may stand apart (营业员 rushed at peak times
    # within hall attitude), but no two problems may share a cluster
    assert summary["network"] >= 3 and summary["service"] >= 2 and sum(summary.values()) <= 7
    labels = _labels(rows)
    with session_scope(url) as s:
        first = _membership(s)
        rename(s, first["K000"], "夜间断网", "boss", "manager", now)
    assert set(first) == set(labels)
    assert purity([labels[c] for c in first], [first[c] for c in first]) >= 0.95
    majority = {p: max(set(v for c, v in first.items() if labels[c] == p),
                       key=lambda k: sum(1 for c, v in first.items() if v == k and labels[c] == p))
                for p in set(labels.values())}
    assert len(set(majority.values())) == 5
    with session_scope(url) as s:
        run(s, "boss", "manager", now + timedelta(days=1), processes=1)
        second = _membership(s)
        names = dict(s.execute(select(Cluster.id, Cluster.name).where(Cluster.active.is_(True))).all())
    assert second == first  # same data, same clusters, same ids
    assert names[first["K000"]] == "夜间断网"


def test_a_new_case_joins_its_problem_without_a_run(clustered, tmp_path):
    url, rows, _summary, now = clustered
    drops = next(r for r in ROWS if r["label"] == "broadband_drops" and r["description"] not in {x["description"] for x in rows})
    new = case_row("NEW1", received_at="2026-04-20 10:00", promised_reply_at="2026-04-21 10:00", category="network",
                   subcategory="x", description=drops["description"], true_reason=drops["true_reason"],
                   customer_demand=drops["customer_demand"], customer_phone="13911112222")
    assert import_files(write_csv(tmp_path / "n.csv", [new]), now=now).ok
    with session_scope(url) as s:
        before = _membership(s)
        drop_cluster = before[next(r["case_no"] for r in rows if r["subcategory"] == "broadband_drops")]
        t0 = time.perf_counter()
        assert assign_new(s, now) == 1
        elapsed = time.perf_counter() - t0
        after = _membership(s)
        assert assign_new(s, now) == 0
    assert after["NEW1"] == drop_cluster
    assert elapsed < 5  # one case, model read from the database included (the benchmark measures the ms)


def test_merge_and_split_are_kept_by_later_runs(clustered):
    url, rows, _summary, now = clustered
    with session_scope(url) as s:
        m = _membership(s)
        a = m[next(r["case_no"] for r in rows if r["subcategory"] == "indoor_signal")]
        b = m[next(r["case_no"] for r in rows if r["subcategory"] == "slow_data")]
        with pytest.raises(ClusterRefused):
            merge(s, [a], "boss", "manager", now)
        service = m[next(r["case_no"] for r in rows if r["subcategory"] == "hotline")]
        with pytest.raises(ClusterRefused):
            merge(s, [a, service], "boss", "manager", now)  # another category
        kept = merge(s, [a, b], "boss", "manager", now)
    with session_scope(url) as s:
        run(s, "boss", "manager", now + timedelta(days=1), processes=1)
        m = _membership(s)
        together = {c for c, cid in m.items() if cid == kept}
        expected = {r["case_no"] for r in rows if r["subcategory"] in ("indoor_signal", "slow_data")}
        assert together == expected
        assert s.get(Cluster, a if kept == b else b).active is False
        halves = split(s, kept, "boss", "manager", now)
    with session_scope(url) as s:
        run(s, "boss", "manager", now + timedelta(days=2), processes=1)
        m = _membership(s)
        parts = [{c for c, cid in m.items() if cid == h} for h in halves]
        assert parts[0] and parts[1] and parts[0] | parts[1] == expected
        assert purity([_labels(rows)[c] for c in expected], [m[c] for c in expected]) >= 0.9
        assert s.get(Cluster, kept).active is False and all(s.get(Cluster, h).pinned for h in halves)


def test_only_managers_change_clusters_and_the_list_has_its_figures(clustered):
    url, rows, summary, now = clustered
    with session_scope(url) as s:
        some = _membership(s)["K000"]
        for call in (lambda: run(s, "lead", "team_lead", now), lambda: rename(s, some, "x", "lead", "team_lead", now),
                     lambda: merge(s, [some, some + 1], "lead", "inspector", now),
                     lambda: split(s, some, "lead", "handler", now)):
            with pytest.raises(Forbidden):
                call()
        listed = cluster_list(s, now)
    assert sum(c["size"] for c in listed) == len(rows) and len(listed) == sum(summary.values())
    top = listed[0]
    assert len(top["examples"]) == 3 and len(top["weekly"]) == 8 and top["teams"]
    assert 0 <= top["missed_share"] <= 1 and top["terms"]


def test_a_problem_from_a_cluster_counts_the_clusters_complaints(clustered):
    url, rows, _summary, now = clustered
    with session_scope(url) as s:
        cid = _membership(s)["K000"]
        members = [c for c, k in _membership(s).items() if k == cid]
        pid = create_problem(s, "断网", "夜间断网", "张", members[:5], "boss", "manager", now,
                             scope_category="network", scope_subcategories=[], scope_cluster_id=cid)
        row = s.get(Problem, pid)
        received = sorted(s.scalars(select(Case.received_at).where(Case.case_no.in_(members))))
        row.fixed_at = received[len(received) // 2]
    with session_scope(url) as s:
        check_effect(s, pid, 60, "day", "boss", "manager", now + timedelta(days=60))
        check = problem_detail(s, pid)["checks"][0]
    assert check["before"] + check["after"] == len(members)  # the cluster's cases, not the whole category


def test_repeats_can_be_counted_within_a_problem_cluster(clustered, monkeypatch):
    from sqlalchemy import update

    from db.repeats import RepeatPolicy, repeat_summary

    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "cluster-repeat")
    url, rows, _summary, now = clustered
    with session_scope(url) as s:
        m = _membership(s)
        labels = _labels(rows)
        drops = sorted(c for c in m if labels[c] == "broadband_drops")[:2]
        signal = next(c for c in sorted(m) if labels[c] == "indoor_signal")
        # one customer: two broadband-drop complaints and one about indoor signal, all in the network category
        s.execute(update(Case).where(Case.case_no.in_([*drops, signal]))
                  .values(customer_phone="13955556666", updated_at=now))
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    with session_scope(url) as s:
        by_cluster = repeat_summary(s, start, end, rule=RepeatPolicy(60, "cluster"))
        by_category = repeat_summary(s, start, end, rule=RepeatPolicy(60, "category"))
    assert by_cluster["repeats"] == 1 and by_cluster["list"]["case_no"].tolist() == [drops[1]]
    assert by_category["repeats"] == 2


def test_the_command_line_runs_and_assigns(db_url, tmp_path, capsys):
    import manage

    assert manage.main(["clusters", "assign", "--db", db_url]) == 0  # nothing yet: no model, nothing assigned
    assert "0 complaints assigned" in capsys.readouterr().out
    rows = _cases(12)
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=datetime(2026, 4, 11, tzinfo=UTC)).ok
    assert manage.main(["clusters", "run", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("clusters: network ") and "service" in out
    with session_scope(db_url) as s:
        assert len(_membership(s)) == len(rows)
    later = dict(rows[0], case_no="K-LATER", customer_phone="13911110000")
    assert import_files(write_csv(tmp_path / "n.csv", [later]), now=datetime(2026, 4, 11, tzinfo=UTC)).ok
    assert manage.main(["clusters", "assign", "--db", db_url]) == 0
    assert "1 complaints assigned" in capsys.readouterr().out
    assert manage.main(["verify", "--db", db_url]) == 0
    assert "handler_not_on_roster\t1" in capsys.readouterr().out  # the fixture's one handler has no account


@pytest.mark.parametrize("shape", ["none", "one", "two", "identical", "blank"])
def test_small_and_degenerate_databases_give_a_clear_result(db_url, tmp_path, shape):
    """#28 M14: `clusters run` on 60 seeded cases raised 'Cosine affinity cannot be used when X contains
    zero vectors'; 0, 1, 2 texts, identical texts and texts with no word left must all give a result."""
    base = _cases(12)
    rows = {"none": [], "one": base[:1], "two": base[:2],
            "identical": [{**r, "description": base[0]["description"], "true_reason": base[0]["true_reason"],
                           "customer_demand": base[0]["customer_demand"]} for r in base[:40]],
            "blank": [{**r, "description": "客户来电。" if i % 2 else "10086", "true_reason": "", "customer_demand": ""}
                      for i, r in enumerate(base[:40])] + base[40:60]}[shape]
    if rows:
        assert import_files(write_csv(tmp_path / "c.csv", rows), now=datetime(2026, 4, 11, tzinfo=UTC)).ok
    now = datetime(2026, 5, 1, tzinfo=UTC)
    with session_scope(db_url) as s:
        summary = run(s, "boss", "manager", now, processes=1)
    with session_scope(db_url) as s:
        listed = cluster_list(s, now)
        members = _membership(s)
    assert len(members) == len(rows)  # every case is in a cluster
    assert sum(c["size"] for c in listed) == len(rows)
    if shape in ("one", "two", "identical"):  # clusters are per category: one each, nothing to tell apart
        assert len(listed) == len({r["category"] for r in rows})
    assert summary is not None
