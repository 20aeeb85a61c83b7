"""Outputs: what leaves the machine as a file, inert in Excel/WPS.

- ``exports``: CSV and .xlsx cells that can never run as formulas; the graded CSV
- ``spreadsheets``: the upload template and the problem workbook
- ``briefing``: the monthly briefing (.xlsx and a printable A4 PDF)
- ``handouts``: the sheet of initial passwords to hand out

May import: every core package above it (problems, rules, intake, grading, insight).
"""

__all__ = ["briefing", "exports", "handouts", "spreadsheets"]
