"""The public notice (4.2, 8.1) as a web page and as A4/A3 PDFs for the service halls; admins edit it."""
from __future__ import annotations

import streamlit as st

from db.notice import load_notice, save_notice
from db.obligations import thresholds
from domain.notice import FIELDS, NoticeInvalid, halls, promises
from services.notice import FLOW, notice_pdf
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, db, flash, lang, md, refusal, tr

guard("notice")
L = lang()
st.title(tr("page.notice"))
st.caption(tr("notice.intro"))
with db() as session:
    notice = load_notice(session)
    th = thresholds(session)

st.subheader(notice["centre"])
c1, c2 = st.columns(2)
with c1:
    st.markdown(f"#### {tr('notice.where')}")
    for key in ("department", "complaint_numbers", "service_hours", "address"):
        if notice.get(key):
            st.text(f"{tr('notice.f.' + key)}：{notice[key]}")
    st.markdown(f"#### {tr('notice.supervision')}")
    for key in ("operator_supervision", "regulator_supervision"):
        if notice.get(key):
            st.text(f"{tr('notice.f.' + key)}：{notice[key]}")
with c2:
    st.markdown(f"#### {tr('notice.promises')}")
    for line in promises(th, L):
        st.text("• " + line)
st.markdown(f"#### {tr('notice.flow')}")
for i, (step, note) in enumerate(FLOW, start=1):
    st.text(f"{i}. {step} —— {note}" + ("" if i == len(FLOW) else "\n   ↓"))
places = halls(notice)
if places:
    st.caption(tr("notice.halls") + "：" + md("、".join(places)))

d1, d2, _ = st.columns([1, 1, 3])
d1.download_button(tr("notice.pdf_a4"), notice_pdf(notice, th, "A4", as_of()), file_name="投诉受理公告_A4.pdf",
                   mime="application/pdf", key="notice_a4")
d2.download_button(tr("notice.pdf_a3"), notice_pdf(notice, th, "A3", as_of()), file_name="投诉受理公告_A3.pdf",
                   mime="application/pdf", key="notice_a3")

if allowed("edit_notice"):
    with st.expander(tr("notice.settings")):
        with st.form("notice_form"):
            values = {}
            for key in FIELDS:
                widget = st.text_area if key == "halls" else st.text_input
                values[key] = widget(tr(f"notice.f.{key}"), value=notice.get(key, ""), key=f"notice_f_{key}")
            save = st.form_submit_button(tr("notice.save"), type="primary")
        if save:
            try:
                with db() as session:
                    save_notice(session, values, actor(), role())
            except NoticeInvalid as exc:
                st.error(tr("notice.invalid", error=md(refusal(exc))))
            else:
                flash(tr("notice.saved"))
                st.rerun()
