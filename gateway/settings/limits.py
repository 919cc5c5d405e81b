"""What one request may ask: document limits and costs, and which documents run at all."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from gateway.persisted.manifest import MANIFEST_PATH
from gateway.settings.component import ComponentSettings


class LimitSettings(ComponentSettings):
    """What one document may cost us before any resolver runs, measured once per document in one pass
    (gateway/limits/cost_limits.py), every fragment spread expanded."""

    max_query_depth: int = Field(default=12, ge=1)
    """Deepest selection a document may have (`QUERY_TOO_DEEP`)."""
    max_aliases: int = Field(default=30, ge=0)
    """Aliases one document may use (`TOO_MANY_ALIASES`)."""
    max_tokens: int = Field(default=2_000, ge=1)
    """Lexical tokens one document may have (`TOO_MANY_TOKENS`)."""
    max_fragments: int = Field(default=32, ge=0)
    """Fragment definitions one document may have (`TOO_MANY_FRAGMENTS`), checked before any walk."""
    max_spreads: int = Field(default=64, ge=0)
    """Fragment spreads per operation, every spread expanded (`TOO_MANY_SPREADS`)."""
    max_fields: int = Field(default=300, ge=1)
    """Fields per operation, every spread expanded (`TOO_MANY_FIELDS`)."""
    max_cost: int = Field(default=20_000, ge=1)
    """Static cost per operation (`QUERY_TOO_COSTLY`): each field 1, times the sizes of the lists it is
    in. The screen pop costs about 4,000."""
    cost_page_cap: int = Field(default=50, ge=1)
    """A list's size in the cost: its `first`/`last` argument, at most this (the services' own cap)."""
    cost_list_size: int = Field(default=10, ge=1)
    """A list's size in the cost when it has no page argument."""
    validate_inline_max_fields: int = Field(default=50, ge=0)
    """Past this many fields (expanded) a document is validated in a worker thread: graphql-core's
    rules are quadratic in same-named fields, and the event loop must keep answering meanwhile."""
    parse_inline_max_chars: int = Field(default=1_024, ge=0)
    """Longer document texts are parsed in a worker thread."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    """Largest request body; larger is 413 `BAD_REQUEST`."""
    max_root_fields: int = Field(default=5, ge=1)
    """Top-level fields in one operation (`TOO_MANY_ROOT_FIELDS`)."""


class PersistedSettings(ComponentSettings):
    """Persisted queries (the manifest), APQ, and the federation SDL."""

    federation_sdl: bool = False
    """Serve `_service { sdl }` outside dev mode, for a router composing at run time (it reveals the
    whole schema, like introspection; off: compose offline from the committed SDL)."""
    persisted_manifest_path: Path = MANIFEST_PATH
    """The persisted query list, every operation parsed and validated at start-up."""
    persisted_list_only_roles: str = "softphone"
    """Comma-separated token roles that run manifest operations only."""
    persisted_list_only_clients: str = "softphone"
    """Comma-separated token client ids that run manifest operations only."""
    persisted_only: bool = True
    """Every request names a manifest operation by id (the production default), except from the roles
    in `persisted_free_form_roles` and the clients in `persisted_free_form_clients`."""
    persisted_free_form_roles: str = "supervisor,developer"
    """Comma-separated token roles exempt from `persisted_only`: the people who use GraphiQL (agents and
    the softphone send ids)."""
    persisted_free_form_clients: str = ""
    """Comma-separated client ids exempt from `persisted_only` (a federation router's traffic)."""
    apq: bool = True
    """Run-time APQ registration on/off."""
    persisted_compiled: bool = True
    """Run every manifest operation from a plan made at start-up (`schema.compiled`) instead of
    graphql-core's generic walk; off: every operation through the generic walk."""
    apq_max_entries: int = Field(default=1_000, ge=1)
    """APQ registrations kept in process (without Redis; least recently used first out)."""
    apq_ttl_s: int = Field(default=86_400, ge=60)
    """How long Redis keeps an APQ registration."""
