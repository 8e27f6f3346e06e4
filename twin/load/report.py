"""The report of an import: rows accepted, repaired and rejected, each with its reason."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class ImportReport:
    """What an import did with each row of its file.

    Attributes
    ----------
    kind
        ``admin``, ``roads`` or ``buildings``.
    rows
        Data rows in the file.
    accepted
        Rows stored (new or updated), repaired ones included.
    updated
        Of the accepted rows, those that updated a row already in the database.
    repaired
        ``(row, reason)``: invalid geometries made valid, and stored.
    rejected
        ``(row, field, reason)``: rows not stored.
    notes
        ``(row, message)``: things worth knowing that did not stop a row (row 0: the file).
    """

    kind: str
    rows: int = 0
    accepted: int = 0
    updated: int = 0
    repaired: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)

    def reject(self, row: int, fieldname: str, reason: str) -> None:
        """Record a rejected row, naming the field at fault."""
        self.rejected.append((row, fieldname, reason))

    def note(self, row: int, message: str) -> None:
        """Record a note on a row (0 for the whole file)."""
        self.notes.append((row, message))

    def summary(self) -> str:
        """One line: accepted, updated, repaired and rejected counts.

        Examples
        --------
        >>> ImportReport("roads", rows=3, accepted=2).summary()
        'roads: 3 rows: 2 accepted (0 updated, 0 repaired), 0 rejected'
        """
        return (
            f"{self.kind}: {self.rows} rows: {self.accepted} accepted ({self.updated} updated, "
            f"{len(self.repaired)} repaired), {len(self.rejected)} rejected"
        )

    def lines(self) -> list[tuple[int, str, str, str]]:
        """``(row, field, outcome, reason)`` for every rejected, repaired and noted row, by row."""
        out = [(n, f, "rejected", r) for n, f, r in self.rejected]
        out += [(n, "geometry", "repaired", r) for n, r in self.repaired]
        out += [(n, "", "note", m) for n, m in self.notes]
        return sorted(out, key=lambda line: line[0])

    def write_csv(self, path: Path) -> None:
        """Write :meth:`lines` as CSV, UTF-8 with a BOM so that Excel reads the Chinese."""
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(("row", "field", "outcome", "reason"))
            out.writerows(self.lines())
