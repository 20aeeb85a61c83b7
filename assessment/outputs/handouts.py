"""The sheet of initial passwords to hand out, one row per new account: inert cells, and a note
on the first row that it is to be destroyed once handed out."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font

from .exports import inert, text_cells_only

HEADERS = ["用户名", "单位代码", "单位名称", "初始密码", "说明"]
NOTE = "首次登录须修改密码。本表发放后请销毁,不要转发或存放在共享位置。"


def handout_workbook(handouts: Iterable) -> bytes:
    """``handouts``: records with name, unit_code, unit_name, password."""
    book = Workbook()
    sheet = book.active
    sheet.title = "初始密码"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for h in handouts:
        sheet.append([inert(h.name), inert(h.unit_code), inert(h.unit_name), h.password, NOTE])
    for column, width in zip("ABCDE", (20, 16, 24, 18, 60), strict=True):
        sheet.column_dimensions[column].width = width
    text_cells_only(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
