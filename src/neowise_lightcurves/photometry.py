"""Physical units of the W1 and W2 photometry: profile-fit fluxes in DN, Vega magnitudes, and
flux densities in mJy.

A flux ``DN`` (the catalogue's ``w1flux``, ``w2flux``) is a Vega magnitude through the
instrumental zero point :data:`ZERO_POINT` (mag)::

    m = ZP - 2.5 log10(DN)

and a Vega magnitude a flux density through the zero-magnitude (isophotal) flux density of Vega
in the band, :data:`F_NU0_JY` (Jy)::

    F_nu = F_nu0 * 10**(-0.4 m)

so that ``F_nu [mJy] = MJY_PER_DN * DN`` with ``MJY_PER_DN = 1000 F_nu0 10**(-0.4 ZP)``
(:data:`MJY_PER_DN`), and an error in DN scales by the same factor.

``F_nu0`` is 309.540 Jy in W1 and 171.787 Jy in W2: WISE All-Sky Release Explanatory
Supplement, section IV.4.h.i.1, Eq. 1 (from Jarrett et al. 2011, ApJ 735, 112; see also Wright
et al. 2010, AJ 140, 1868). They hold for a source with ``F_nu ∝ nu**-2``; a source of another
spectrum needs the colour corrections of section IV.4.h.vi, which are not applied here.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Vega magnitude zero points of the profile-fit fluxes (mag): ``m = ZP - 2.5 log10(DN)``.
ZERO_POINT = {"w1": 20.752, "w2": 19.596}
#: Zero-magnitude flux densities (Jy) of W1 and W2 (Explanatory Supplement IV.4.h.i.1; Jarrett
#: et al. 2011), for an ``F_nu ∝ nu**-2`` spectrum.
F_NU0_JY = {"w1": 309.540, "w2": 171.787}
#: Flux density of one DN (mJy / DN): ``1000 F_nu0 10**(-0.4 ZP)``.
MJY_PER_DN = {b: 1000.0 * F_NU0_JY[b] * 10 ** (-0.4 * ZERO_POINT[b]) for b in ZERO_POINT}

#: Per-exposure columns :func:`with_mjy_columns` adds: mJy column -> the DN column it scales.
EXPOSURE_MJY_COLUMNS = {
    f"{b}{kind}_mjy": (f"{b}{kind}", b) for b in ZERO_POINT for kind in ("flux", "sigflux")
}


def dn_to_mjy(dn, band: str):
    """Flux (or its error) in DN of ``band`` (``"w1"``, ``"w2"``) as a flux density (mJy)."""
    return np.asarray(dn, dtype=float) * MJY_PER_DN[band]


def mag_to_mjy(mag, band: str):
    """Vega magnitude in ``band`` as a flux density (mJy): ``1000 F_nu0 10**(-0.4 mag)``."""
    return 1000.0 * F_NU0_JY[band] * 10 ** (-0.4 * np.asarray(mag, dtype=float))


def with_mjy_columns(table: pa.Table) -> pa.Table:
    """``table`` with ``w1flux_mjy, w1sigflux_mjy, w2flux_mjy, w2sigflux_mjy`` (mJy; null where
    the DN value is null) right after its last DN flux column, each field's metadata giving its
    ``unit`` and ``description``. A table without the DN columns is returned as it is."""
    sources = [dn for dn, _ in EXPOSURE_MJY_COLUMNS.values()]
    if not all(c in table.column_names for c in sources):
        return table
    at = max(table.column_names.index(c) for c in sources) + 1
    for i, (name, (dn, band)) in enumerate(EXPOSURE_MJY_COLUMNS.items()):
        what = "flux density" if "sig" not in dn else "flux density error"
        field = pa.field(
            name,
            pa.float64(),
            metadata={
                "unit": "mJy",
                "description": f"{band.upper()} {what}: {dn} x {MJY_PER_DN[band]:.6g} mJy/DN",
            },
        )
        values = pc.multiply(table[dn].cast(pa.float64()), MJY_PER_DN[band])
        table = table.add_column(at + i, field, values)
    return table
