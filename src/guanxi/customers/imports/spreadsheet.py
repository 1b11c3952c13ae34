"""Excel (.xlsx/.xlsm/.xls) and OpenDocument (.ods) sheets through python-calamine.

calamine parses a sheet in native code into a compact cell range (about 10× smaller than
openpyxl's objects) and hands Python one row at a time, so Python memory stays flat; the native
range of the chosen sheet is the one part that grows with the sheet (see the architecture notes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from guanxi.customers.imports.readers import (
    ImportFileError,
    Row,
    SourceTable,
    cell_text,
    detect_flavour,
    unique_headers,
)


def open_spreadsheet(path: Path, *, sheet: str | None = None) -> SourceTable:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise ImportFileError(
            _("The workbook is password-protected; save a copy without a password.")
        ) from None
    except Exception:  # calamine raises several unrelated types for a damaged file
        raise ImportFileError(_("The spreadsheet cannot be opened; it may be damaged.")) from None
    names = list(workbook.sheet_names)
    if not names:
        workbook.close()
        raise ImportFileError(_("The workbook has no sheets."))
    chosen = sheet or names[0]
    if chosen not in names:
        workbook.close()
        raise ImportFileError(
            _("Sheet “%(sheet)s” not found; this file has: %(sheets)s")
            % {"sheet": chosen, "sheets": ", ".join(names)}
        )
    try:
        data = workbook.get_sheet_by_name(chosen)
    except Exception:
        workbook.close()
        raise ImportFileError(_("Sheet “%(sheet)s” cannot be read.") % {"sheet": chosen}) from None
    # iter_rows starts at sheet row 1 even when the used range starts lower (columns are trimmed)
    cells: Iterator[list[Any]] = iter(data.iter_rows())
    headers: list[str] = []
    number = 0
    for values in cells:
        number += 1
        if any(cell_text(v).strip() for v in values):
            headers = unique_headers([cell_text(v) for v in values])
            break
    if not headers:
        workbook.close()
        raise ImportFileError(_("Sheet “%(sheet)s” is empty.") % {"sheet": chosen})
    return SourceTable(
        format="xlsx",
        flavour=detect_flavour(headers),
        encoding=None,
        sheet=chosen,
        sheets=names,
        headers=headers,
        rows=_rows(cells, number, len(headers)),
        closers=[workbook.close],
    )


def _rows(cells: Iterator[list[Any]], header_row: int, width: int) -> Iterator[Row]:
    number = header_row
    for values in cells:
        number += 1  # calamine yields every row of the used range, blank ones too: Excel's numbering
        texts = [cell_text(v) for v in values[:width]]
        if not any(t.strip() for t in texts):
            continue
        texts += [""] * (width - len(texts))
        yield number, texts
