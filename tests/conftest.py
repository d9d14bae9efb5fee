"""Shared fixtures: a tiny demo catalogue and a brute-force matcher to check against."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Without credentials the AWS SDK would ask the instance-metadata address, which is off this
# machine; every S3 test talks to a server on loopback.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def brute_force_pairs(target_ra, target_dec, ra, dec, radius_arcsec):
    """Every (target, detection) pair within the radius, by astropy's angular separation of
    every pair: the reference the matcher must equal."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    t = SkyCoord(np.asarray(target_ra) * u.deg, np.asarray(target_dec) * u.deg)
    d = SkyCoord(np.asarray(ra) * u.deg, np.asarray(dec) * u.deg)
    pairs = set()
    for i in range(len(t)):
        sep = t[i].separation(d).arcsec
        pairs.update((i, int(j)) for j in np.flatnonzero(sep <= radius_arcsec))
    return pairs


@pytest.fixture(scope="session")
def tiny_catalog(tmp_path_factory):
    """The demo sky with 5 field stars per region, years 1 and 2, in IRSA's layout."""
    from neowise_lightcurves import demo

    root = tmp_path_factory.mktemp("demo-catalog")
    for year in ("year1", "year2"):
        demo.write_year(root, year, seed=1, field_sources=5)
    return root
