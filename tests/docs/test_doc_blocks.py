"""The rules the documentation examples follow, on small markdown files written here."""

from __future__ import annotations

from pathlib import Path

from tests.docs.doc_blocks import Mark, blocks, examples, output_matches, problems, shift_ports

FENCE = "```"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text.replace("'''", FENCE), encoding="utf-8")
    return path


def test_marked_blocks_pair_with_the_output_after_them(tmp_path: Path) -> None:
    page = _write(
        tmp_path,
        "Intro\n\n<!-- doc-test -->\n'''sh\ncurl -s 127.0.0.1:8000/healthz\n'''\n\n"
        "<!-- doc-test: output -->\n'''json\n{\"status\":\"ok\"}\n'''\n\n"
        "<!-- doc-test: skip (runs until Ctrl-C) -->\n'''sh\nmake demo\n'''\n",
    )
    found = blocks(page)
    assert [(b.line, b.info, b.mark) for b in found] == [
        (4, "sh", Mark.RUN),
        (9, "json", Mark.OUTPUT),
        (14, "sh", Mark.SKIP),
    ]
    assert found[2].reason == "runs until Ctrl-C"
    (example,) = examples(found)
    assert example.block.text == "curl -s 127.0.0.1:8000/healthz\n"
    assert example.expected == '{"status":"ok"}\n'
    assert problems(found) == []


def test_unmarked_unreasoned_and_unlabelled_blocks_are_problems(tmp_path: Path) -> None:
    page = _write(
        tmp_path,
        "'''sh\nmake test\n'''\n\n<!-- doc-test: skip -->\n'''bash\nmake demo\n'''\n\n"
        "<!-- doc-test: output -->\n'''text\n1\n'''\n\n"
        "'''\nls\n'''\n\n<!-- doc-test -->\n'''python\nprint(1)\n'''\n",
    )
    assert problems(blocks(page)) == [
        "page.md:1: a sh block neither marked doc-test nor skipped with a reason",
        "page.md:6: skipped without a reason",
        "page.md:11: an output block that follows no runnable block",
        "page.md:15: a fence without a language",
        "page.md:20: doc-test marks a python block, not a shell one",
    ]


def test_a_marker_only_counts_right_before_its_block(tmp_path: Path) -> None:
    page = _write(tmp_path, "<!-- doc-test -->\nSome prose in between.\n\n'''sh\nmake test\n'''\n")
    assert blocks(page)[0].mark is Mark.NONE


def test_default_ports_shift_and_others_stay() -> None:
    text = "curl 127.0.0.1:8000/graphql 127.0.0.1:8104/_sim/crew 127.0.0.1:4318 127.0.0.1:80001"
    assert shift_ports(text, 100) == (
        "curl 127.0.0.1:8100/graphql 127.0.0.1:8204/_sim/crew 127.0.0.1:4318 127.0.0.1:80001"
    )


def test_output_matching_takes_dots_for_any_text_and_nothing_else() -> None:
    assert output_matches('{"name":"...","n":1}', '{"name":"徐*军","n":1}\n')
    assert output_matches("a\n...\nz", "a\nb\nc\nz")
    assert not output_matches('{"name":"...","n":1}', '{"name":"x","n":2}')
    assert not output_matches("ok", "ok, and more")
    assert not output_matches("a.b", "axb")  # a literal dot is a dot
