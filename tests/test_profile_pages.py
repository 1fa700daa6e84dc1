"""The import-profile page and the import page's profile choice, through Streamlit's AppTest."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.migrate import upgrade
from db.models import AuditEntry, Case
from db.profiles import get_profile, save_profile, versions
from db.session import session_scope
from domain.importprofile import from_dict, from_yaml, to_dict
from tests.apptest import open_page, refused_directly

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
PROVINCE = (FOREIGN / "province" / "工单导出.csv").read_bytes()


@pytest.fixture
def empty(sqlite_url):
    upgrade(sqlite_url)
    return sqlite_url


@pytest.mark.parametrize("role, refused", [("team_lead", False), ("admin", False), ("inspector", True),
                                           ("handler", True), ("trainer", True), ("manager", True)])
def test_only_the_people_who_import_open_the_profile_page(empty, role, refused):
    assert refused_directly("pages/import_profiles.py", role) is refused


def test_a_team_lead_maps_an_unknown_export_with_the_assistant_and_imports_it_by_name(empty):
    at = open_page("pages/import_profiles.py", "team_lead")
    at.file_uploader(key="prof_sample").set_value(("工单导出.csv", PROVINCE, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    mapping = at.dataframe[0].value if at.dataframe else None
    editor = next(d for d in at.get("arrow_data_frame") if "column" in d.value.columns) if mapping is None else None
    frame = mapping if mapping is not None and "column" in mapping.columns else editor.value
    rows = dict(zip(frame["column"], frame["target"]))
    assert rows["承诺回复时间"] == "承诺回复时间" and rows["回复时间"] == "联系记录：最终结果答复时间"
    assert rows["工单状态"] == "（不导入）" and rows["工单编号"] == "工单号 *"
    assert [s.value for s in at.success] == ["前几行都能读取。"]
    at.text_input(key="prof_name").input("省客服系统")
    at.text_input(key="prof_note").input("首次建立")
    at.button(key="prof_save").click().run()
    assert not at.exception, at.exception
    assert "导入方案“省客服系统”已保存为第 1 版" in [s.value for s in at.success]
    with session_scope(empty) as s:
        saved = get_profile(s, "省客服系统")
        assert saved.version == 1 and saved.updated_by == "test-team_lead"
        assert [v.note for v in versions(s, "省客服系统")] == ["首次建立"]
    committed = from_yaml((FOREIGN / "province" / "profile.yaml").read_text(encoding="utf-8"))
    assert saved.profile.cases.fields == committed.cases.fields
    assert saved.profile.contact_columns == committed.contact_columns
    assert saved.profile.time_formats == committed.time_formats and saved.profile.cases.header_row == 3

    imp = open_page("pages/import_data.py", "team_lead")
    imp.selectbox(key="import_profile").select("省客服系统").run()
    imp.file_uploader(key="import_cases").set_value(("工单导出.csv", PROVINCE, "text/csv"))
    imp.run()
    imp.button(key="import_dry_run").click().run()
    assert not imp.exception, imp.exception
    assert any(i.value.startswith("预演结果（未写入任何数据）：新增 48 件") for i in imp.info)
    with session_scope(empty) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    imp.button(key="import_run").click().run()
    assert not imp.exception, imp.exception
    assert "导入完成：新增 48 件、更新 0 件工单；新增 72 条联系记录。" in [s.value for s in imp.success]
    with session_scope(empty) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 48
        after = s.scalar(select(AuditEntry.after).where(AuditEntry.action == "import"))
    assert '"profile": "省客服系统"' in after


def test_the_import_page_points_a_foreign_file_to_the_assistant(empty):
    imp = open_page("pages/import_data.py", "team_lead")
    imp.file_uploader(key="import_cases").set_value(("工单导出.csv", PROVINCE, "text/csv"))
    imp.run()
    assert not imp.exception, imp.exception
    assert any("不是本产品的标准格式" in i.value for i in imp.info)


def test_saved_profiles_show_their_mapping_history_and_yaml_and_admins_restore_and_delete(empty):
    profile = from_yaml((FOREIGN / "helpdesk" / "profile.yaml").read_text(encoding="utf-8"))
    with session_scope(empty) as s:
        save_profile(s, profile, actor="cli", role="admin", note="v1")
        save_profile(s, from_dict({**to_dict(profile), "description": "第二版"}), actor="cli", role="admin",
                     note="v2", expected_version=1)
    at = open_page("pages/import_profiles.py", "admin")
    frames = [d.value for d in at.dataframe]
    mapping = next(f for f in frames if "field" in f.columns)
    row = mapping[mapping["source"] == "Reject reason"].iloc[0]
    assert row["field"] == "不予受理原因" and row["values"] == "R1 → 超出经营范围；R2 → 超出服务范围；R3 → 超出服务时限"
    history = next(f for f in frames if "版本" in f.columns)
    assert history["版本"].tolist() == [2, 1] and history["说明"].tolist() == ["v2", "v1"]
    assert at.get("download_button")
    at.selectbox(key="prof_restore_ServiceDesk").select(1)
    at.button(key="prof_restore_go").click().run()
    assert not at.exception, at.exception
    assert "导入方案“ServiceDesk”已恢复第 1 版的内容，保存为第 3 版" in [s.value for s in at.success]
    with session_scope(empty) as s:
        assert get_profile(s, "ServiceDesk").profile == profile
    at.button(key="prof_delete").click().run()
    at.button(key="prof_delete_yes").click().run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("还没有导入方案") for i in at.info)


def test_a_team_lead_may_not_delete_and_a_yaml_upload_saves_a_new_version(empty):
    text = (FOREIGN / "unicode" / "profile.yaml").read_bytes()
    at = open_page("pages/import_profiles.py", "team_lead")
    at.file_uploader(key="prof_yaml_upload").set_value(("p.yaml", text, "application/x-yaml"))
    at.run()
    assert not at.exception, at.exception
    at.button(key="prof_yaml_import").click().run()
    assert "导入方案“投诉清单（Unicode 文本）”已保存为第 1 版" in [s.value for s in at.success]
    assert not [b for b in at.button if b.key == "prof_delete"]
    bad = b"name: x\ncases:\n  fields: {case_no: a}\n"
    at.file_uploader(key="prof_yaml_upload").set_value(("bad.yaml", bad, "application/x-yaml"))
    at.run()
    assert not at.exception, at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [
        "bad.yaml: cases.fields: 必填字段没有来源：受理时间（received_at）、受理渠道（channel）、投诉类别（category）、"
        "处理人（handler）、受理结果（acceptance）"]


def test_another_file_or_another_header_row_starts_from_its_own_proposal(empty):
    import hashlib

    at = open_page("pages/import_profiles.py", "team_lead")
    at.file_uploader(key="prof_sample").set_value(("工单导出.csv", PROVINCE, "text/csv"))
    at.run()

    def mapped_columns():
        frame = next(d.value for d in at.dataframe if "column" in d.value.columns)
        return list(frame["column"])

    assert mapped_columns()[:2] == ["工单编号", "工单状态"]
    digest = hashlib.sha256(PROVINCE).hexdigest()[:16]
    at.number_input(key=f"prof_cases_{digest}_head").set_value(1).run()  # the title line as header: wrong
    assert not at.exception, at.exception
    assert mapped_columns()[0] == "泰州移动投诉工单导出"
    assert any("必填字段还没有对应的列" in e.value for e in at.error)
    unicode = (FOREIGN / "unicode" / "投诉清单.csv").read_bytes()
    at.file_uploader(key="prof_sample").set_value(("投诉清单.csv", unicode, "text/csv")).run()
    assert not at.exception, at.exception
    assert mapped_columns()[:3] == ["地区", "流水号", "受理日期"]  # its own shape and proposal


def test_the_import_preview_masks_customers_names_and_numbers(empty):
    raw = (FOREIGN / "own" / "cases.csv").read_bytes()
    imp = open_page("pages/import_data.py", "team_lead")
    imp.file_uploader(key="import_cases").set_value(("cases.csv", raw, "text/csv")).run()
    assert not imp.exception, imp.exception
    head = next(d.value for d in imp.dataframe if "customer_phone" in d.value.columns)
    assert head["customer_phone"].iloc[0] == "139****3590" and head["customer_name"].iloc[0] == "周*"
    assert len(head) == 20 and head["case_no"].iloc[0] == "TZ-2026-000001"
