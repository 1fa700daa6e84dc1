"""Layout that holds from a laptop's 800 px window to a wall display.

Streamlit lays columns out side by side whatever the width, keeps the sidebar open down to tablet widths,
and ends long metric labels in an ellipsis. `responsive()` (called by the frame on every page) lets rows
of columns wrap instead of squeezing, stacks side-by-side charts and tables on narrow windows, lets
metric labels wrap, and closes the sidebar once per browser tab when the window is narrow (the user can
open it again). `wall()` turns a page into the 大屏 view: no sidebar or toolbar, large type.
All of it is fixed CSS and a fixed script: no user text is ever part of it.
"""
from __future__ import annotations

import streamlit as st

from domain.i18n import t

NARROW_PX = 1100  # below this, the sidebar starts closed and side-by-side sections stack

_CSS = f"""<style>
[data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {{ min-width: min(100%, 9.5rem); }}
[data-testid="stMetricLabel"] * {{ white-space: normal !important; overflow: visible !important;
                                   text-overflow: clip !important; }}
@media (max-width: {NARROW_PX}px) {{
  [data-testid="stHorizontalBlock"]:has(.stVegaLiteChart, [data-testid="stDataFrame"]) > [data-testid="stColumn"]
    {{ min-width: 100%; }}
}}
</style>"""

_NARROW_SCRIPT = f"""<script>
(function () {{
  if (window.innerWidth > {NARROW_PX} || sessionStorage.getItem("cc_sidebar_auto_closed")) return;
  var tries = 0;
  var timer = setInterval(function () {{
    var bar = document.querySelector('[data-testid="stSidebar"]');
    var button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (bar && button && bar.getAttribute("data-collapsed") === "false") {{
      button.click();
      sessionStorage.setItem("cc_sidebar_auto_closed", "1");
      clearInterval(timer);
    }}
    if (++tries > 50) clearInterval(timer);
  }}, 100);
}})();
</script>"""

_WALL_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stExpandSidebarButton"] { display: none !important; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 1rem !important; max-width: 100% !important; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricLabel"] * { font-size: 1.8rem !important; line-height: 1.3 !important; }
[data-testid="stMetricValue"] * , [data-testid="stMetricValue"] { font-size: 4.5rem !important; line-height: 1.1 !important; }
[data-testid="stTable"] table, [data-testid="stTable"] th, [data-testid="stTable"] td { font-size: 1.7rem !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { font-size: 1.3rem !important; }
h4 { font-size: 2.2rem !important; }
</style>"""


# Streamlit's file uploader has fixed English words ("Upload", "200MB per file • CSV, XLSX") and no
# parameter for them: the upload button (not the chips' remove and add-more buttons, which are icons) is
# relabelled from the catalogue and the pages say the limit themselves
_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzoneInstructions"] {{ display: none !important; }}
[data-testid="stFileUploaderDropzone"] > span > button [data-testid="stMarkdownContainer"] p {{ display: none !important; }}
[data-testid="stFileUploaderDropzone"] > span > button [data-testid="stMarkdownContainer"]::after {{ content: "{button}"; }}
</style>"""


def responsive(lang: str = "zh") -> None:
    button = t("upload.button", lang).replace('"', "")  # a catalogue text, never user input
    st.html(_CSS + _UPLOADER_CSS.format(button=button) + _NARROW_SCRIPT, unsafe_allow_javascript=True)


def wall() -> None:
    st.html(_WALL_CSS)
