"""The documentation's links: every relative link in the README, docs/ and benchmarks/README.md
names a file that exists and, for a Markdown file, a heading it has."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "benchmarks/README.md"]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a Markdown page's headings."""
    out = set()
    for line in page.read_text().splitlines():
        found = re.match(r"^#+ (.*)", line)
        if found:
            text = re.sub(r"[^\w\- ]", "", found.group(1).strip().lower())
            out.add(text.replace(" ", "-"))
    return out


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if link.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, fragment = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.relative_to(REPO)}: {link} (no such file)")
            elif fragment and target.suffix == ".md" and fragment not in anchors(target):
                broken.append(f"{page.relative_to(REPO)}: {link} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_reads_in_ten_minutes():
    assert len((REPO / "README.md").read_text().splitlines()) <= 250
