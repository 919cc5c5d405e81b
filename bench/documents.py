"""Documents the validation benchmark and the tests send: the hostile one of issue 15 and the
largest one the cost limits admit.

`doubling(n)`: n fragments that each spread the previous one twice (about 40 bytes a fragment):
2^n fields once expanded, which Strawberry's depth and alias rules walked one by one.

`worst_allowed(limits, max_tokens)`: as much as the limits let through, all at once: nested to the
depth limit, every alias, the fragments and spreads at their caps, the fields up to their cap, with
same-named fields graphql-core's `OverlappingFieldsCanBeMerged` compares pairwise, and within the
token limit. It is what validation costs at worst for a document the BFF accepts.
"""

from __future__ import annotations

from graphql.language import Lexer, Source, TokenKind

from gateway.limits.cost_limits import CostLimits


def doubling(n: int) -> str:
    parts = [f"query Doubling {{ ...F{n} }}", "fragment F0 on Query { __typename }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return "\n".join(parts)


def worst_allowed(limits: CostLimits, max_tokens: int) -> str:
    """On the real schema (schema/schema.graphql): `customer(id:)` nested through `tickets` and
    `customer` to the depth limit; fragments on `Ticket` spread in a chain; aliases on `__typename`.

    Tokens are counted as graphql-core counts them (names, punctuation, values); the document is
    grown field by field while it stays under every limit."""
    depth_pairs = max(0, (limits.max_depth - 1) // 2)  # each pair: tickets(first: 1) { customer {
    fragments = min(limits.max_fragments, limits.max_spreads)
    head = 'query Worst { customer(id: "1") { ' + "tickets(first: 1) { customer { " * depth_pairs
    tail = "} }" * depth_pairs + " } }"
    aliases = " ".join(f"a{i}: __typename" for i in range(limits.max_aliases))
    chain = [f"fragment T{i} on Customer {{ id ...T{i + 1} }}" for i in range(fragments - 1)]
    chain.append(f"fragment T{fragments - 1} on Customer {{ id }}")
    spread = "...T0" if fragments else ""
    # tokens so far: head/tail braces and names, aliases (3 each), fragments (6 or 8 each)
    used = _tokens(head + tail + aliases + spread + " ".join(chain))
    fields = 2 * depth_pairs + 1 + limits.max_aliases + fragments
    names = []
    while used + 1 < max_tokens and fields + 1 <= limits.max_fields:
        names.append("name")  # same-named fields: OverlappingFieldsCanBeMerged compares every pair
        used += 1
        fields += 1
    body = f"{head}{aliases} {spread} {' '.join(names)} {tail}"
    return body + "\n" + "\n".join(chain)


def _tokens(text: str) -> int:
    lexer, count = Lexer(Source(text)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count
