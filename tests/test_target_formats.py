"""Counting a targets file's rows without reading it (one_job: auto), in every format."""

import numpy as np
import pytest
from astropy.table import Table

from neowise_lightcurves import target_formats, targets
from neowise_lightcurves.target_formats import count_rows

#: One extension of each format.
FORMATS = {
    ext: target_formats._FORMATS[ext] for ext in (".csv", ".ecsv", ".fits", ".xml", ".parquet")
}


def table(n):
    rng = np.random.default_rng(n)
    return Table(
        {
            "id": [f"t{i}" for i in range(n)],
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-90, 90, n),
            "note": ["a, quoted" if i % 3 else "" for i in range(n)],
        }
    )


@pytest.mark.parametrize("ext", sorted(FORMATS))
@pytest.mark.parametrize("n", [0, 1, 7, 40])
def test_counts_what_astropy_reads(tmp_path, ext, n):
    """Each format as astropy writes it: the count is the table's rows, as read_table reads
    them, and a limit below it gives limit + 1."""
    path = str(tmp_path / f"t{ext}")
    table(n).write(path, format=FORMATS[ext])
    if n:
        assert len(targets.read_table(path)) == n
    elif ext == ".xml":  # astropy writes no DATA element for no rows: not counted, None
        assert count_rows(path, 1000) is None
        return
    assert count_rows(path, 1000) == n
    assert count_rows(path, 5) == min(n, 6)


def test_text_lines_as_astropy_reads_them(tmp_path):
    """CSV: blank lines are skipped, ``#`` lines are rows (astropy's CSV reader); ECSV: its
    ``#`` lines are its header."""
    path = tmp_path / "t.csv"
    path.write_text("id,ra,dec\n\na,1,2\n# c,3,4\nb,3,4\n  \nc,5,6\n")
    assert count_rows(str(path), 10) == 4 == len(targets.read_table(str(path)))
    ecsv = tmp_path / "t.ecsv"
    table(3).write(ecsv, format="ascii.ecsv")
    ecsv.write_text(ecsv.read_text() + "\n")
    assert count_rows(str(ecsv), 10) == 3 == len(targets.read_table(str(ecsv)))


def test_votable_rows_split_across_chunks(tmp_path):
    """A <TR> cut by the end of a chunk is counted once, whatever the chunk size; a namespace
    prefix is a row too."""
    path = str(tmp_path / "t.xml")
    table(13).write(path, format="votable")
    for chunk in range(1, 80):
        assert target_formats._votable_rows(path, 100, chunk=chunk) == 13
    text = open(path).read().replace("<TR>", "<v:TR>").replace("</TR>", "</v:TR>")
    (tmp_path / "p.xml").write_text(text)
    assert count_rows(str(tmp_path / "p.xml"), 100) == 13


def test_none_where_rows_cannot_be_told(tmp_path):
    """A binary VOTable, an unknown extension, a missing or unreadable file: None (the targets
    rule reads them, and names what is wrong)."""
    path = str(tmp_path / "b.xml")
    votable = table(5)
    votable.write(path, format="votable", tabledata_format="binary2")
    assert len(targets.read_table(path)) == 5
    assert count_rows(path, 100) is None
    (tmp_path / "t.txt").write_text("id,ra,dec\na,1,2\n")
    assert count_rows(str(tmp_path / "t.txt"), 100) is None
    assert count_rows(str(tmp_path / "missing.csv"), 100) is None
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    assert count_rows(str(tmp_path / "bad.parquet"), 100) is None
    (tmp_path / "empty.fits").write_bytes(b"")
    assert count_rows(str(tmp_path / "empty.fits"), 100) is None
    from astropy.io import fits

    fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4)))]).writeto(tmp_path / "image.fits")
    assert count_rows(str(tmp_path / "image.fits"), 100) is None


def test_line_endings_as_astropy_reads_them(tmp_path):
    """CR-only (old Mac) and CRLF line endings: every row counted, as astropy reads it."""
    rows = "".join(f"t{i},{i},1.5" + "{nl}" for i in range(600))
    for name, nl in (("cr", "\r"), ("crlf", "\r\n"), ("lf", "\n")):
        path = tmp_path / f"{name}.csv"
        path.write_bytes(("id,ra,dec" + nl + rows.replace("{nl}", nl)).encode())
        assert len(targets.read_table(str(path))) == 600
        assert count_rows(str(path), 1000) == 600
        assert count_rows(str(path), 500) == 501


@pytest.mark.parametrize("ext", [".csv", ".ecsv", ".xml"])
def test_compressed_or_wide_text_is_not_counted(tmp_path, ext):
    """A text file astropy decompresses whatever its name (gzip, bzip2, xz), or decodes from
    UTF-16: its bytes are not its lines, so None (never a count too low)."""
    import bz2
    import gzip
    import lzma

    plain = tmp_path / f"plain{ext}"
    table(600).write(plain, format=FORMATS[ext])
    data = plain.read_bytes()
    wide = plain.read_text().encode("utf-16")
    for name, raw in (
        ("gz", gzip.compress(data)),
        ("bz2", bz2.compress(data)),
        ("xz", lzma.compress(data)),
        ("utf16", wide),
    ):
        path = tmp_path / f"{name}{ext}"
        path.write_bytes(raw)
        if name != "utf16":  # astropy reads them: a count would have to be 600
            assert len(targets.read_table(str(path))) == 600
        assert count_rows(str(path), 1000) is None, name


def test_votable_in_other_serializations_is_not_counted(tmp_path):
    """Only TABLEDATA's rows are counted: a VOTable whose rows are in a PARQUET, FITS or BINARY
    element (or not there at all) gives None."""
    for element in ('PARQUET type="VOTable-remote-file"', "FITS", "BINARY", "BINARY2"):
        name = element.split()[0]
        text = (
            '<?xml version="1.0"?><VOTABLE><RESOURCE><TABLE><FIELD name="ra" datatype="double"/>'
            f'<DATA><{element}><STREAM href="x"/></{name}></DATA></TABLE></RESOURCE></VOTABLE>'
        )
        (tmp_path / f"{name}.xml").write_text(text)
        assert count_rows(str(tmp_path / f"{name}.xml"), 100) is None, name


def test_fits_first_table_extension(tmp_path):
    """The first table extension's rows, after an image extension, as astropy reads it."""
    from astropy.io import fits

    path = str(tmp_path / "t.fits")
    hdus = fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(np.zeros((3, 3))),
            fits.BinTableHDU(table(9)),
            fits.BinTableHDU(table(2)),
        ]
    )
    hdus.writeto(path)
    assert count_rows(path, 100) == 9


def test_stops_reading_a_long_csv_early(tmp_path, monkeypatch):
    """A long file is read no further than the limit's rows (every Snakemake start counts)."""
    path = tmp_path / "long.csv"
    with open(path, "w") as fh:
        fh.write("id,ra,dec\n")
        for i in range(200_000):
            fh.write(f"t{i},1.0,2.0\n")
    opened = []

    class Counting:
        def __init__(self, fh):
            self.fh, self.lines = fh, 0

        def __iter__(self):
            for line in self.fh:
                self.lines += 1
                yield line

        def __enter__(self):
            opened.append(self)
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def __getattr__(self, name):
            return getattr(self.fh, name)

    real_open = open
    monkeypatch.setattr(
        target_formats, "open", lambda *a, **k: Counting(real_open(*a, **k)), raising=False
    )
    assert count_rows(str(path), 500) == 501
    assert opened and opened[-1].lines <= 503
