"""File names for target ids: safe on Linux, macOS and Windows, unique even where case does not
count, at most 255 bytes with any suffix we add, and the same from run to run.

A *plain* id is its own file name (``OUTBURST``, ``STAR-A01``): only upper-case letters, digits
and ``.``, ``_``, ``+``, ``-``, starting with a letter or digit, not ending with ``.`` or ``_``,
at most :data:`PLAIN_MAX` characters, and no Windows device name (``CON``, ``LPT1``, ...). Any
other id becomes its safe characters (others, and dots, replaced by ``_``: Windows reads what
comes before a name's first dot as a device name; cut to :data:`PLAIN_MAX`;
``target`` if none are left) plus ``_h`` and 16 hex digits of the SHA-256 of the id:
``V_AM_Her_hb6676a5973eaaa27``. A plain name has no lower-case letter and a hashed one always
has (the ``h``), so the two kinds never meet, and two hashed names are equal, ignoring case,
only if their hashes are (about 1 in 10^19). Which file holds which target is in the index of
the per-target files; the id itself is inside every file, exactly.
"""

from __future__ import annotations

import hashlib
import re

#: Longest id kept as its own file name (and longest safe prefix of a hashed one).
PLAIN_MAX = 100
_PLAIN = re.compile(r"[A-Z0-9](?:[A-Z0-9._+-]*[A-Z0-9+-])?")
_UNSAFE = re.compile(r"[^A-Za-z0-9_+-]+")
#: Windows device names: reserved as a file name's stem whatever the extension.
WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{d}{i}" for d in ("COM", "LPT") for i in (*"123456789", "¹", "²", "³")]
)


def safe_filename(target_id: str) -> str:
    """The file name stem of a target id (see the module's description)."""
    tid = str(target_id)
    if (
        len(tid) <= PLAIN_MAX
        and _PLAIN.fullmatch(tid)
        and tid.split(".", 1)[0] not in WINDOWS_DEVICES
    ):
        return tid
    clean = _UNSAFE.sub("_", tid)[:PLAIN_MAX].strip("_+-") or "target"
    return f"{clean}_h{hashlib.sha256(tid.encode('utf-8')).hexdigest()[:16]}"
