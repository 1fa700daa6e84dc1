"""PDF documents with real embedded Chinese fonts (fpdf2 and the Noto Sans CJK collection from Debian's
fonts-noto-cjk): text that prints, copies and searches correctly everywhere. A small set of building blocks
— title, heading, paragraph, table, horizontal bar chart, flow diagram — shared by the public notice, the
supervision reports and the training packs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from fpdf import FPDF
from fpdf.fonts import FontFace

FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")
REGULAR, BOLD = "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"
SIMPLIFIED_CHINESE = 2  # the SC face inside the Noto CJK collections
INK, MUTED, ACCENT, LIGHT = (29, 38, 51), (95, 105, 120), (31, 95, 168), (232, 239, 248)


class FontMissing(RuntimeError):
    """The CJK font is not installed; the message says which package brings it."""


def font_path(name: str) -> Path:
    configured = os.environ.get("COMPLAINTS_PDF_FONT_DIR")
    for folder in ((configured,) if configured else ()) + FONT_DIRS:
        path = Path(folder) / name
        if path.exists():
            return path
    raise FontMissing(f"the Chinese font {name} was not found; install Debian's fonts-noto-cjk "
                      "(or set COMPLAINTS_PDF_FONT_DIR)")


class Doc:
    """One document. Units are millimetres; text wraps inside the page margins."""

    def __init__(self, size: str = "A4", landscape: bool = False, title: str = "") -> None:
        self.pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format=size)
        self.pdf.set_auto_page_break(True, margin=15)
        self.pdf.add_font("cjk", "", str(font_path(REGULAR)), collection_font_number=SIMPLIFIED_CHINESE)
        self.pdf.add_font("cjk", "B", str(font_path(BOLD)), collection_font_number=SIMPLIFIED_CHINESE)
        self.pdf.set_title(title)
        self.pdf.set_creator("投诉督办台")
        self.scale = 1.41 if size.upper() == "A3" else 1.0  # A3 is A4 scaled by √2
        self.pdf.set_margins(15 * self.scale, 15 * self.scale)
        self.pdf.add_page()

    @property
    def width(self) -> float:
        return self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def _font(self, size: float, bold: bool = False, colour=INK) -> None:
        self.pdf.set_font("cjk", "B" if bold else "", size * self.scale)
        self.pdf.set_text_color(*colour)

    def title(self, text: str, subtitle: str = "") -> None:
        self._font(20, True, ACCENT)
        self.pdf.multi_cell(self.width, 11 * self.scale, text, align="C", new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self._font(10, colour=MUTED)
            self.pdf.multi_cell(self.width, 6 * self.scale, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3 * self.scale)

    def heading(self, text: str) -> None:
        self.pdf.ln(2 * self.scale)
        self._font(13, True, ACCENT)
        self.pdf.multi_cell(self.width, 8 * self.scale, text, new_x="LMARGIN", new_y="NEXT")
        y = self.pdf.get_y()
        self.pdf.set_draw_color(*ACCENT)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.l_margin + self.width, y)
        self.pdf.ln(2 * self.scale)

    def para(self, text: str, size: float = 10.5, bold: bool = False, colour=INK) -> None:
        self._font(size, bold, colour)
        self.pdf.multi_cell(self.width, size * 0.62 * self.scale, text, new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: Sequence[tuple[str, str]], key_width: float = 45) -> None:
        """Label / value lines, the label in bold."""
        for key, value in rows:
            self._font(11, True)
            y = self.pdf.get_y()
            self.pdf.multi_cell(key_width * self.scale, 7 * self.scale, key, new_x="RIGHT", new_y="TOP")
            self._font(11)
            self.pdf.multi_cell(self.width - key_width * self.scale, 7 * self.scale, value or "—",
                                new_x="LMARGIN", new_y="NEXT")
            self.pdf.set_y(max(self.pdf.get_y(), y + 7 * self.scale))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None,
              size: float = 9) -> None:
        if not rows:
            self.para("—", size)
            return
        widths = list(widths or [1] * len(headers))
        total = sum(widths)
        cols = [self.width * w / total for w in widths]
        self.pdf.set_draw_color(200, 205, 212)
        self.pdf.set_fill_color(255, 255, 255)  # the bars leave their colour behind
        heads = FontFace(family="cjk", emphasis="BOLD", color=INK, fill_color=LIGHT, size_pt=size * self.scale)
        with self.pdf.table(col_widths=cols, text_align="LEFT", line_height=size * 0.55 * self.scale,
                            headings_style=heads, first_row_as_headings=True, cell_fill_mode="NONE") as table:
            self._font(size, True)
            head = table.row()
            for h in headers:
                head.cell(str(h))
            self._font(size)
            for r in rows:
                line = table.row()
                for v in r:
                    line.cell("" if v is None else str(v))
        self.pdf.ln(2 * self.scale)

    def bars(self, items: Sequence[tuple[str, float, str]], max_value: float | None = None, size: float = 9) -> None:
        """A horizontal bar chart drawn in the PDF itself: (label, value, value as text) per bar."""
        if not items:
            self.para("—", size)
            return
        top = max_value or max((v for _l, v, _t in items), default=1) or 1
        label_w, text_w, h = self.width * 0.32, self.width * 0.16, 6 * self.scale
        bar_w = self.width - label_w - text_w
        for label, value, text in items:
            if self.pdf.get_y() + h > self.pdf.h - self.pdf.b_margin:
                self.pdf.add_page()
            y, x = self.pdf.get_y(), self.pdf.l_margin
            self._font(size)
            self.pdf.set_xy(x, y)
            self.pdf.cell(label_w, h, label[:24])
            self.pdf.set_fill_color(*LIGHT)
            self.pdf.rect(x + label_w, y + 1, bar_w, h - 2, style="F")
            self.pdf.set_fill_color(*ACCENT)
            self.pdf.rect(x + label_w, y + 1, max(0.5, bar_w * max(0.0, value) / top), h - 2, style="F")
            self.pdf.set_xy(x + label_w + bar_w + 2, y)
            self.pdf.cell(text_w - 2, h, text)
            self.pdf.set_xy(x, y + h)
        self.pdf.ln(2 * self.scale)

    def flow(self, steps: Sequence[str], notes: Sequence[str] = ()) -> None:
        """A vertical flow diagram: one rounded box per step, arrows between them, a note beside each."""
        box_w, box_h, gap = self.width * 0.42, 10 * self.scale, 4 * self.scale
        x = self.pdf.l_margin + (self.width - box_w) / 2 - self.width * 0.14
        for i, step in enumerate(steps):
            if self.pdf.get_y() + box_h + gap > self.pdf.h - self.pdf.b_margin:
                self.pdf.add_page()
            y = self.pdf.get_y()
            self.pdf.set_fill_color(*LIGHT)
            self.pdf.set_draw_color(*ACCENT)
            self.pdf.rect(x, y, box_w, box_h, style="DF", round_corners=True, corner_radius=2 * self.scale)
            self._font(11, True)
            self.pdf.set_xy(x, y)
            self.pdf.cell(box_w, box_h, f"{i + 1}. {step}", align="C")
            if i < len(notes) and notes[i]:
                self._font(8.5, colour=MUTED)
                self.pdf.set_xy(x + box_w + 4 * self.scale, y + 1)
                self.pdf.multi_cell(self.width - (x - self.pdf.l_margin) - box_w - 4 * self.scale,
                                    4.2 * self.scale, notes[i])
            bottom = y + box_h
            if i < len(steps) - 1:
                mid = x + box_w / 2
                self.pdf.line(mid, bottom, mid, bottom + gap)
                self.pdf.polygon([(mid - 1.5 * self.scale, bottom + gap - 2 * self.scale),
                                  (mid + 1.5 * self.scale, bottom + gap - 2 * self.scale), (mid, bottom + gap)],
                                 style="F")
            self.pdf.set_xy(self.pdf.l_margin, bottom + gap)

    def footer_note(self, text: str) -> None:
        self.pdf.ln(4 * self.scale)
        self.para(text, 8.5, colour=MUTED)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())
