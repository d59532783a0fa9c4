"""The repository documents itself: code and docs cite docs/architecture.md, never files outside it.

A citation of a section ("architecture §3") must name a section that exists; a bare "§3", or one
of a design note or reference page kept outside the repository, leaves the reader with nothing
to open.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
OUTSIDE = re.compile(
    r"DESIGN\.md|DESIGN target|reference §|responses-protocol|pygls-notes|editor-testing\.md|shared/"
)
"""The team's notes kept outside the repository, as code used to cite them."""
SECTION = re.compile(r"(?:(architecture)\s+)?§\s*(\d+)")
SKIPPED = (ROOT / "tests" / "patch" / "scenarios", ROOT / "tests" / "peers")


def documents() -> list[Path]:
    """Every source and doc file of the project (not fixtures, not installed peers)."""
    paths = [
        *(p for folder in ("codex_lsp", "tests", "bench") for p in sorted((ROOT / folder).rglob("*.py"))),
        *sorted((ROOT / "docs").rglob("*.md")),
        ROOT / "README.md",
    ]
    return [path for path in paths if not any(skip in path.parents for skip in SKIPPED)]


def architecture_sections() -> set[str]:
    return set(re.findall(r"^## (\d+)\.", ARCHITECTURE.read_text(encoding="utf-8"), re.MULTILINE))


def bad_citations(text: str, sections: set[str]) -> list[str]:
    """Citations in ``text`` of something outside the repository, or of no existing section."""
    found = [f"cites outside the repository: {match.group()!r}" for match in OUTSIDE.finditer(text)]
    for match in SECTION.finditer(text):
        if match.group(1) is None:
            found.append(f"cites {match.group()!r} without saying of what (write 'architecture §N')")
        elif match.group(2) not in sections:
            found.append(f"cites {match.group()!r}, but docs/architecture.md has no such section")
    return found


def test_the_detector_tells_good_citations_from_bad() -> None:
    text = "see architecture §2; DESIGN.md §3 and reference §4.4; §5; architecture §9; shared/x.md"
    assert bad_citations(text, {"1", "2"}) == [
        "cites outside the repository: 'DESIGN.md'",
        "cites outside the repository: 'reference §'",
        "cites outside the repository: 'shared/'",
        "cites '§3' without saying of what (write 'architecture §N')",
        "cites '§4' without saying of what (write 'architecture §N')",
        "cites '§5' without saying of what (write 'architecture §N')",
        "cites 'architecture §9', but docs/architecture.md has no such section",
    ]


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_citations_point_inside_the_repository(path: Path) -> None:
    if path == Path(__file__):
        return
    found = bad_citations(path.read_text(encoding="utf-8"), architecture_sections())
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)
