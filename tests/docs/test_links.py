"""Links between README.md and docs/ land on a file that exists and a heading it has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.processes import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    headings = re.findall(r"^#{1,6} (.+)$", re.sub(r"(?ms)^```.*?^```", "", text), flags=re.M)
    return {slug(heading) for heading in headings}


def test_slugs_follow_github() -> None:
    assert slug("Billing's budgets") == "billings-budgets"
    assert slug("Alerts (`deploy/prometheus/alerts.yml`)") == "alerts-deployprometheusalertsyml"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for match in LINK.finditer(doc.read_text(encoding="utf-8")):
        target = match["target"]
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor}")
    assert broken == []
