"""How much of a file is read at all: size, rows, columns, cell length and, for .xlsx, the
uncompressed size. Checked before parsing where the file allows it, so a hostile or mistaken
file ends in a listed problem within bounded time and memory. Defaults fit a province's month
(tens of thousands of units, a few dozen columns); each can be set by an environment variable,
read when a file is read (the app's uploader limit, ``server.maxUploadSize`` in
``.streamlit/config.toml``, is set to the same size)."""

from __future__ import annotations

from dataclasses import dataclass

from ..problems.settings import setting_number

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 100 * MB  # FIVECOLOR_MAX_UPLOAD_MB
    max_rows: int = 1_000_000  # FIVECOLOR_MAX_ROWS
    max_columns: int = 500  # FIVECOLOR_MAX_COLUMNS
    max_cell_chars: int = 2_000  # FIVECOLOR_MAX_CELL_CHARS
    max_unzipped: int = 400 * MB  # FIVECOLOR_MAX_XLSX_UNZIPPED_MB
    max_header_chars: int = 64_000
    max_evidence: int = 10 * MB  # FIVECOLOR_MAX_EVIDENCE_MB: one 整改材料 file

    @classmethod
    def from_env(cls) -> Limits:
        def number(name: str, default: int, scale: int = 1) -> int:
            return setting_number(name, default // scale) * scale

        return cls(
            max_bytes=number("FIVECOLOR_MAX_UPLOAD_MB", cls.max_bytes, MB),
            max_rows=number("FIVECOLOR_MAX_ROWS", cls.max_rows),
            max_columns=number("FIVECOLOR_MAX_COLUMNS", cls.max_columns),
            max_cell_chars=number("FIVECOLOR_MAX_CELL_CHARS", cls.max_cell_chars),
            max_unzipped=number("FIVECOLOR_MAX_XLSX_UNZIPPED_MB", cls.max_unzipped, MB),
            max_evidence=number("FIVECOLOR_MAX_EVIDENCE_MB", cls.max_evidence, MB),
        )


# What a refused file's code says to raise, for those who run the command line or the server.
SETTING_OF = {
    "file_too_large": "FIVECOLOR_MAX_UPLOAD_MB",
    "too_many_rows": "FIVECOLOR_MAX_ROWS",
    "too_many_columns": "FIVECOLOR_MAX_COLUMNS",
    "cell_too_long": "FIVECOLOR_MAX_CELL_CHARS",
    "xlsx_too_large": "FIVECOLOR_MAX_XLSX_UNZIPPED_MB",
    "evidence_too_large": "FIVECOLOR_MAX_EVIDENCE_MB",
}
