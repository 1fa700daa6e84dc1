"""Charts in the reader's language.

Every chart goes through `show`: in Chinese it carries Vega's number and time locale for zh-CN (month and
weekday names, 上午/下午), so that no renderer default ("Mon 23", "Nov 29") can appear; the pages also give
temporal axes and tooltips numeric formats and every tooltip a translated title (the page scan test reads
the chart specs and fails on a bare field name).
"""
from __future__ import annotations

import altair as alt
import streamlit as st

# d3-time-format / d3-format locale definitions for mainland China, written out here (nothing is fetched)
ZH_TIME = {
    "dateTime": "%x %A %X",
    "date": "%Y/%-m/%-d",
    "time": "%H:%M:%S",
    "periods": ["上午", "下午"],
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
    "shortMonths": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
}
ZH_NUMBER = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}

DAY = "%m-%d"  # numeric in both languages: reads the same to everyone and never needs month names
MINUTE = "%m-%d %H:%M"
FULL_MINUTE = "%Y-%m-%d %H:%M"


def localize(chart: alt.TopLevelMixin, lang: str) -> alt.TopLevelMixin:
    """The chart with the reader's number and time locale (English is Vega's own default)."""
    if lang != "zh":
        return chart
    return chart.configure(locale={"number": ZH_NUMBER, "time": ZH_TIME})


def tip(field: str, title: str, fmt: str | None = None) -> alt.Tooltip:
    """A tooltip line with a title in the reader's words (a bare field name would show the column code)."""
    return alt.Tooltip(field, title=title, format=fmt) if fmt else alt.Tooltip(field, title=title)


def show(chart: alt.TopLevelMixin, lang: str) -> None:
    st.altair_chart(localize(chart, lang), width="stretch")
