"""The README is one page a new user reads first: at most 250 lines, the quick start the issue asks for, each fact in
one place, and no link to a file that is not there."""

from __future__ import annotations

import re

import pytest

from tests.support.pg import REPO

pytestmark = pytest.mark.unit
README = REPO / "README.md"


def test_the_readme_is_one_page_that_leads_with_the_two_commands_and_the_quick_start() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert text.index("./install.sh ") < text.index("./test.sh ") < text.index("## Quick start")
    quick = text[text.index("## Quick start"):text.index("## Rotations")]
    steps = [word for word in ("./install.sh", "bridge login", "bridge setup", "bridge doctor") if word in quick]
    assert steps == ["./install.sh", "bridge login", "bridge setup", "bridge doctor"]
    assert "supabase db push" in quick and "SQL editor" in quick


def test_how_resolve_answers_is_told_once() -> None:
    homes = [path.name for path in [README, *sorted((REPO / "docs").glob("*.md"))]
             if "## How `bridge resolve` answers" in path.read_text(encoding="utf-8")]
    assert homes == ["openclaw.md"]


def test_every_link_of_the_readme_and_the_docs_names_a_file_that_exists() -> None:
    for doc in [README, *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which is not there"
