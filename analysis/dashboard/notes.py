"""The notes of the results document that a dashboard page shows: a section that could not be
computed (``section_notes``, or a section whose JSON carries a ``note``), estimates inside a
section that carry a note or remarks, and rows of list sections that carry a note. No Django
imports: the notes stay in English here; the view translates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# which sections of the document each table and figure shows
TABLE_SECTIONS: dict[str, tuple[str, ...]] = {
    "baseline": ("baseline",),
    "completeness": ("missing_data",),
    "primary": ("primary",),
    "percent_change": ("primary",),
    "responders": ("responders",),
    "missing_data": ("missing_data",),
    "secondary": ("secondary",),
    "correlations": ("correlations",),
    "regression": ("regression",),
    "mixed": ("mixed_model",),
    "subgroups": ("subgroups",),
    "safety": ("safety",),
}
FIGURE_SECTIONS: dict[str, tuple[str, ...]] = {
    "consort": ("consort",),
    "trajectory": ("mixed_model",),
    "heatmap": ("correlation_matrix",),
    "forest": ("subgroups",),
}
# the key that names a row of a list section, in order of preference
_ROW_LABELS = ("outcome", "variable", "term", "visit")


@dataclass
class Note:
    """One note and where it applies (section, estimate or row labels; empty: the whole
    section)."""

    text: str
    where: list[str] = field(default_factory=list)
    failed: bool = False


def page_notes(results: dict[str, Any], sections: list[str]) -> list[Note]:
    """The notes of ``sections``, each text once, with the places it applies to, in order."""
    failed_sections = results.get("section_notes") or {}
    found: dict[str, Note] = {}

    def add(text: Any, where: str, failed: bool = False) -> None:
        if not isinstance(text, str) or not text:
            return
        note = found.setdefault(text, Note(text))
        note.failed = note.failed or failed
        if where and where not in note.where:
            note.where.append(where)

    for section in dict.fromkeys(sections):
        if section in failed_sections:
            add(failed_sections[section], section, failed=True)
        _collect(results.get(section), section, add)
    return list(found.values())


def _collect(value: Any, where: str, add: Any) -> None:
    if isinstance(value, dict):
        add(value.get("note"), where)
        for remark in value.get("remarks") or []:
            add(remark, where)
        for key, inner in value.items():
            if isinstance(inner, dict | list) and key not in {"remarks", "n"}:
                _collect(inner, f"{where}: {key}", add)
    elif isinstance(value, list):
        for row in value:
            if isinstance(row, dict):
                label = next((row[k] for k in _ROW_LABELS if row.get(k)), "")
                _collect(row, f"{where}: {label}" if label else where, add)


def sections_of(table_names: list[str], figure_names: list[str]) -> list[str]:
    """The sections a page shows, through its tables and figures."""
    names = [s for t in table_names for s in TABLE_SECTIONS.get(t, ())]
    return names + [s for f in figure_names for s in FIGURE_SECTIONS.get(f, ())]
