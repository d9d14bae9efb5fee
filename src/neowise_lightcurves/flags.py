"""A user's flags on a run's targets ("real", "artefact", free text), kept in a CSV file beside
the run, never among the workflow's outputs, and read again the next time.

The file (:func:`default_path`: ``{outdir}-flags.csv`` beside ``{outdir}``) has one row per
flagged target: ``target_id, flag, note, time`` (``time``: UTC, ISO 8601). It is rewritten whole
and atomically at each change, so a crash never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from .atomic import atomic_path

#: The flags a target can have ("": none).
CHOICES = ("", "real", "artefact")
COLUMNS = ("target_id", "flag", "note", "time")


def default_path(outdir: str | os.PathLike) -> Path:
    """Where a run's flags live by default: ``{outdir}-flags.csv`` in the folder holding
    ``outdir`` (``results/`` -> ``results-flags.csv``), outside the workflow's outputs."""
    outdir = Path(outdir).resolve()
    return outdir.parent / f"{outdir.name}-flags.csv"


class Flags:
    """The flags of one run, as ``{target_id: (flag, note)}``, saved at each change.

    Parameters
    ----------
    path : path
        The CSV file (:func:`default_path`); read if it exists.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.rows: dict[str, dict] = {}
        if self.path.is_file():
            frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
            for row in frame.to_dict("records"):
                self.rows[row["target_id"]] = {c: row.get(c, "") for c in COLUMNS}

    def get(self, target_id: str) -> tuple[str, str]:
        """``(flag, note)`` of a target (``("", "")``: none)."""
        row = self.rows.get(target_id)
        return (row["flag"], row["note"]) if row else ("", "")

    def set(self, target_id: str, flag: str, note: str = "") -> None:
        """Flag a target (``flag`` one of :data:`CHOICES`; an empty flag and note remove it) and
        save the file.

        Raises
        ------
        ValueError
            ``flag`` is not one of :data:`CHOICES`.
        """
        if flag not in CHOICES:
            raise ValueError(f"a flag is one of {CHOICES}, not {flag!r}")
        note = " ".join(str(note).split())  # one line
        if not flag and not note:
            self.rows.pop(target_id, None)
        else:
            now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.rows[target_id] = dict(target_id=target_id, flag=flag, note=note, time=now)
        self.save()

    def lists(self) -> dict[str, list[str]]:
        """The ids of the targets flagged at all (``flagged``: a flag or a note), ``real`` and
        ``artefact``, for a query's ``@flagged``, ``@real``, ``@artefact``."""
        out = {"flagged": sorted(self.rows)}
        for choice in CHOICES[1:]:
            out[choice] = sorted(t for t, r in self.rows.items() if r["flag"] == choice)
        return out

    def column(self, target_ids) -> list[str]:
        """Each target's flag, with its note after a colon (``""``: none), for a table."""
        out = []
        for t in target_ids:
            flag, note = self.get(t)
            out.append(f"{flag}: {note}" if flag and note else flag or note)
        return out

    def save(self) -> None:
        """Write the file whole, sorted by target, atomically."""
        frame = pd.DataFrame(sorted(self.rows.values(), key=lambda r: r["target_id"]))
        frame = frame.reindex(columns=list(COLUMNS))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            frame.to_csv(tmp, index=False)
