"""`schema.paths.dotted` spells a path exactly as joining its keys does, however its prefixes are shared."""

from __future__ import annotations

from graphql.pyutils import Path
from hypothesis import given
from hypothesis import strategies as st

from schema.paths import MAX_SPELLINGS, Spellings, dotted

keys = st.one_of(st.integers(min_value=0, max_value=99), st.text("abcXYZ_", min_size=1, max_size=6))


@given(st.lists(st.tuples(st.integers(min_value=0), keys), min_size=1, max_size=40), st.randoms())
def test_dotted_equals_the_joined_keys_for_every_path_of_a_shared_tree(
    steps: list[tuple[int, str | int]], order: object
) -> None:
    # Each step extends a path made earlier (or starts one): siblings share their parent's object.
    paths: list[Path] = []
    for parent, key in steps:
        prev = paths[parent % len(paths)] if paths and parent % 3 else None
        paths.append(Path(prev, key, None))
    asked = list(paths)
    order.shuffle(asked)  # type: ignore[attr-defined]
    known: Spellings = {}
    for path in asked + asked:  # the second round answers from what the first remembered
        assert dotted(path, known) == ".".join(map(str, path.as_list()))


def test_what_is_remembered_stays_bounded_for_a_long_lived_context() -> None:
    """A websocket's context outlives every event: its spellings never grow past the bound."""
    known: Spellings = {}
    root = Path(None, "ticketUpdated", "Subscription")
    for event in range(3 * MAX_SPELLINGS):
        path = Path(Path(root, "description", "Ticket"), event, None)
        assert dotted(path, known) == f"ticketUpdated.description.{event}"
        assert len(known) <= MAX_SPELLINGS
