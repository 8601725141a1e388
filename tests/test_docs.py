"""The documentation holds together: README.md fits on a page (at most 260 lines) and links every page of
docs/; each page opens with a contents list of its sections; every relative link in README.md and docs/*.md
(a file, a file's heading, or a heading of the same page, with GitHub's anchors) resolves."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
#: [text](target) and ![alt](target); a target runs to the first ')' or whitespace (no title attribute used).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def _prose(text: str) -> str:
    """The text outside fenced and indented code blocks and inline code spans (links there are no links)."""
    kept, fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
            continue
        if fence or line.startswith("    "):
            continue
        kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def headings(path: Path) -> list[tuple[int, str]]:
    """(level, text) of every ATX heading outside fenced code."""
    out, fence = [], False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"(#{1,6}) (.+?)\s*#*$", line)):
            out.append((len(m.group(1)), m.group(2)))
    return out


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a page (a repeated slug gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for _, text in headings(path):
        s = slug(text)
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def links(path: Path) -> list[str]:
    """The relative link targets of a page (no scheme, no mail address)."""
    return [t for t in LINK.findall(_prose(path.read_text())) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_the_slugs_are_githubs():
    assert slug("Several regions / several nodes") == "several-regions--several-nodes"
    assert slug("Bulk mode: `vio-icinga push`") == "bulk-mode-vio-icinga-push"
    assert slug("Quick start (fresh Debian, Python 3.11)") == "quick-start-fresh-debian-python-311"
    assert slug("The other Debian release (`debian13`)") == "the-other-debian-release-debian13"


def test_the_readme_fits_on_a_page():
    lines = len(README.read_text().splitlines())
    assert lines <= 260, f"README.md has {lines} lines: move the detail to a page under docs/"


def test_every_relative_link_resolves():
    broken = []
    for page in pages():
        for target in links(page):
            file, _, anchor = target.partition("#")
            dest = (page.parent / unquote(file)).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def _linked_pages(page: Path) -> set[Path]:
    return {(page.parent / t.partition("#")[0]).resolve() for t in links(page) if t.partition("#")[0]}


def test_every_page_is_reachable_from_the_readme():
    """README links the contents page and every page; the contents page links every page too."""
    every = set(DOCS.glob("*.md")) - {DOCS / "README.md"}
    assert every and every | {DOCS / "README.md"} <= _linked_pages(README)
    assert every <= _linked_pages(DOCS / "README.md")


def test_each_page_opens_with_the_contents_of_its_sections():
    """A page's contents list (before its first section) links every second-level heading of the page."""
    for page in sorted(set(DOCS.glob("*.md")) - {DOCS / "README.md"}):
        text = page.read_text()
        top = text[:text.index("\n## ")]
        listed = set(re.findall(r"\]\(#([^)]+)\)", top))
        sections = {slug(t) for level, t in headings(page) if level == 2}
        assert sections and sections <= listed, (page.name, sorted(sections - listed))


def test_the_debian_package_ships_the_pages_the_readme_links():
    """/usr/share/doc/vio-checks/README.md links docs/: the package installs that directory beside it."""
    shipped = (ROOT / "debian" / "vio-checks.docs").read_text().split()
    assert "README.md" in shipped and "docs" in shipped
