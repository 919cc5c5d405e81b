"""Persisted queries: which document a request runs, found by its id, and whether this caller may.

`PersistedQueries.resolve` reads a GraphQL request (GET parameters or a JSON POST body) before it is
admitted, and answers with a `Resolution` (the document's text and, for a manifest operation, its
parsed and validated `DocumentNode`) or a coded `PersistedQueryError`. The view sets it in
`current_resolution`, so admission control classifies the resolved text (the softphone's hash-only
`ScreenPop` stays critical and gets its ring-time pop) and execution runs the pre-parsed document.

Request forms, and what each refusal answers (HTTP statuses follow Apollo: Apollo Server's for APQ,
Apollo Router's for the persisted query list):

- Apollo APQ, `extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}`. A hash alone runs
  the manifest operation with that id, else the document registered under it; neither:
  `PERSISTED_QUERY_NOT_FOUND` with HTTP 200 and `Cache-Control: private, no-cache, must-revalidate`
  (Apollo Server's choice: Apollo Client's APQ link then sends the body, and no cache keeps the miss
  of a GET). Hash and `query` together register: the hash must be the sha256 of the text (400
  `PERSISTED_QUERY_HASH_MISMATCH`); the document is parsed and validated once and stored only if
  valid (`gateway.persisted.apq_store`). `TIDEGATE_APQ=false`: 200 `PERSISTED_QUERY_NOT_SUPPORTED` for
  anything not in the manifest.
- GraphQL over HTTP's `documentId` (`sha256:<hex>`): the manifest only (it names a trusted document,
  not an APQ registration); unknown: 404 `PERSISTED_QUERY_NOT_FOUND`; with `query` too: 400
  `CANNOT_SEND_PQ_ID_AND_BODY`.
- A free-form `query`. When its text is byte for byte a manifest body, the manifest's document runs.

Policy per caller:

- List-only clients (`TIDEGATE_PERSISTED_LIST_ONLY_ROLES` / `_CLIENTS`, both `softphone`): only
  manifest operations. A body counts when it is byte-identical to a manifest body or its canonical
  print (graphql-core's `print_ast`, as `tidegate pq build` writes them) hashes to a manifest id; else
  403 `PERSISTED_QUERY_NOT_IN_LIST`, also for registering or running an APQ document.
- `TIDEGATE_PERSISTED_ONLY=true` (the default: production): every request names a manifest operation
  by id; sending a body is 400 `PERSISTED_QUERY_ID_REQUIRED`. Documents registered through APQ at run
  time do not count as persisted (as with Apollo: only the list does), so the APQ store is not
  consulted. Exempt, and so free to send free-form documents: the token roles in
  `TIDEGATE_PERSISTED_FREE_FORM_ROLES` (`supervisor,developer`: the people who use GraphiQL; agents
  and the softphone send ids), and the client ids in `TIDEGATE_PERSISTED_FREE_FORM_CLIENTS` (a
  federation router's query plans: `_entities` fetches are never in a manifest). List-only clients
  stay list-only even there. Every free-form document is then held to `gateway.limits.cost_limits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, print_ast, specified_rules
from graphql.validation import ASTValidationRule
from starlette.requests import Request
from strawberry.schema.schema import validate_document

from gateway.http.errors import BadRequest
from gateway.http.extensions import limit_rules
from gateway.http.media_types import mime_type
from gateway.limits.cost_limits import CostLimits, check_cost
from gateway.persisted.apq_store import ApqStore, MemoryApqStore, RedisApqStore
from gateway.persisted.compiled_operation import CompiledOperation
from gateway.persisted.manifest import ManifestError, PersistedOperation, document_id
from gateway.settings import Settings
from infra.redis_client import RedisClient
from services.access import Principal
from services.errors import ErrorCode

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# Apollo Server's headers on its APQ answers: a GET's miss must not be cached anywhere.
_NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}


class PersistedQueryError(BadRequest):
    """A refused persisted-query request, with Apollo's code and status."""


def not_found(status: int = 200) -> PersistedQueryError:
    headers = _NO_CACHE if status == 200 else None
    return PersistedQueryError(
        "PersistedQueryNotFound", status, code=ErrorCode.PERSISTED_QUERY_NOT_FOUND, headers=headers
    )


def not_supported() -> PersistedQueryError:
    return PersistedQueryError(
        "PersistedQueryNotSupported", 200, code=ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, headers=_NO_CACHE
    )


def not_in_list() -> PersistedQueryError:
    return PersistedQueryError(
        "This client may run only the operations in the persisted query list (send their id)",
        403,
        code=ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
    )


@dataclass(frozen=True, slots=True)
class PreparedOperation:
    """A manifest operation with its document, parsed and validated once at start-up."""

    operation: PersistedOperation
    document: DocumentNode
    compiled: CompiledOperation | None = None  # planned once (`gateway.persisted.compiled_operation`)


Validator = Callable[[DocumentNode], list[GraphQLError]]
Compiler = Callable[[DocumentNode], CompiledOperation | None]


def schema_validator(
    schema: GraphQLSchema, rules: Sequence[type[ASTValidationRule]], limits: CostLimits
) -> Validator:
    """Validation as a request gets it: the cost limits first (`gateway.limits.cost_limits`: a document they
    refuse goes no further), then the specified rules plus the gateway's limit rules
    (`gateway.http.extensions.limit_rules`), and Strawberry's own two (added by `validate_document`)."""
    all_rules = tuple(rules)

    def validate(document: DocumentNode) -> list[GraphQLError]:
        _, refused = check_cost(document, schema, limits)
        return refused or validate_document(schema, document, all_rules)

    return validate


class ManifestRegistry:
    """The manifest's operations by id, each parsed and validated when the app is created."""

    def __init__(self, prepared: Iterable[PreparedOperation]) -> None:
        self._by_id = {p.operation.id: p for p in prepared}

    def document_of(self, text: str) -> DocumentNode | None:
        """The prepared document of the manifest operation `text` prints as (`tidegate pq build`'s
        form), or None when the manifest has none: what the ring-time pop hands over."""
        prepared = self._by_id.get(document_id(_canonical(text, max_tokens=None)))
        return prepared.document if prepared is not None else None

    @classmethod
    def build(
        cls,
        operations: Iterable[PersistedOperation],
        validator: Validator,
        *,
        max_tokens: int,
        compiler: Compiler | None = None,
    ) -> ManifestRegistry:
        """Refuses to build (ManifestError, naming the operation) if one does not parse or validate:
        the BFF must not start with a safelist its own clients would fail on. With a `compiler`, the
        operations it can plan run without graphql-core's executor."""
        prepared = []
        for op in operations:
            try:
                document = parse(op.body, max_tokens=max_tokens)
            except GraphQLError as exc:
                raise ManifestError(f"persisted operation {op.name} ({op.id}) does not parse: {exc}") from exc
            errors = validator(document)
            if errors:
                found = "; ".join(e.message for e in errors)
                raise ManifestError(f"persisted operation {op.name} ({op.id}) is invalid: {found}")
            prepared.append(PreparedOperation(op, document, compiler(document) if compiler else None))
        return cls(prepared)

    def get(self, sha256_hex: str) -> PreparedOperation | None:
        return self._by_id.get(sha256_hex.lower())

    def __len__(self) -> int:
        return len(self._by_id)


@dataclass(frozen=True, slots=True)
class PersistedQueryPolicy:
    list_only_roles: frozenset[str]
    list_only_clients: frozenset[str]
    persisted_only: bool
    free_form_clients: frozenset[str]
    apq: bool
    free_form_roles: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueryPolicy:
        def names(value: str) -> frozenset[str]:
            return frozenset(n.strip() for n in value.split(",") if n.strip())

        return cls(
            list_only_roles=names(settings.persisted.persisted_list_only_roles),
            list_only_clients=names(settings.persisted.persisted_list_only_clients),
            persisted_only=settings.persisted.persisted_only,
            free_form_clients=names(settings.persisted.persisted_free_form_clients),
            apq=settings.persisted.apq,
            free_form_roles=names(settings.persisted.persisted_free_form_roles),
        )

    def list_only(self, principal: Principal | None) -> bool:
        return principal is not None and (
            principal.role in self.list_only_roles or principal.client_id in self.list_only_clients
        )

    def ids_only(self, principal: Principal | None) -> bool:
        """Persisted-only mode, unless this caller is exempt: by role (GraphiQL's users) or by client
        id (a federation router's traffic)."""
        exempt = principal is not None and (
            principal.client_id in self.free_form_clients or principal.role in self.free_form_roles
        )
        return self.persisted_only and not exempt


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a request runs. `document` set: a manifest operation (or a fresh APQ registration),
    parsed and validated already; None: Strawberry parses and validates `query` as usual."""

    query: str | None
    operation_name: str | None
    document: DocumentNode | None = None
    source: str = "free-form"  # "manifest" | "apq" | "free-form"
    compiled: CompiledOperation | None = None  # a manifest operation planned at start-up


current_resolution: ContextVar[Resolution | None] = ContextVar("tidegate_resolution", default=None)


class PersistedQueries:
    def __init__(
        self,
        registry: ManifestRegistry,
        policy: PersistedQueryPolicy,
        validator: Validator,
        *,
        max_tokens: int,
        store: ApqStore | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.validator = validator
        self.max_tokens = max_tokens
        self.store: ApqStore = store or MemoryApqStore(1_000)  # app.py passes the settings' store

    async def resolve_fields(
        self, fields: Mapping[str, Any], principal: Principal | None, store: ApqStore | None = None
    ) -> Resolution:
        """What a request's fields (`request_fields`) run; `store`, the APQ store when not this one's."""
        store = store or self.store
        query = fields.get("query") if isinstance(fields.get("query"), str) else None
        name = fields.get("operationName") if isinstance(fields.get("operationName"), str) else None
        extensions = fields.get("extensions")
        apq = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if fields.get("documentId") is not None:
            if query is not None:
                raise PersistedQueryError(
                    "Send either `documentId` or `query`, not both",
                    code=ErrorCode.CANNOT_SEND_PQ_ID_AND_BODY,
                )
            return self._manifest(_document_id_hex(fields["documentId"]), name, status=404)
        if apq is not None:
            sha256_hex = _apq_hash(apq)
            if query is None:
                return await self._by_hash(sha256_hex, name, principal, store)
            return await self._register(sha256_hex, query, name, principal, store)
        if query is None:
            return Resolution(None, name)  # the view says there is no query
        return self._free_form(query, name, principal)

    def _manifest(self, sha256_hex: str, name: str | None, *, status: int) -> Resolution:
        prepared = self.registry.get(sha256_hex)
        if prepared is None:
            raise not_found(status)
        return _of(prepared, name)

    async def _by_hash(
        self, sha256_hex: str, name: str | None, principal: Principal | None, store: ApqStore
    ) -> Resolution:
        prepared = self.registry.get(sha256_hex)
        if prepared is not None:
            return _of(prepared, name)
        if not self.policy.apq:
            raise not_supported()
        if self.policy.ids_only(principal):
            raise not_found()  # run-time registrations are not persisted operations
        body = await store.get(sha256_hex.lower())
        if body is None:
            raise not_found()
        if self.policy.list_only(principal):
            raise not_in_list()
        return Resolution(body, name, source="apq")

    async def _register(
        self, sha256_hex: str, query: str, name: str | None, principal: Principal | None, store: ApqStore
    ) -> Resolution:
        if document_id(query) != sha256_hex.lower():
            raise PersistedQueryError(
                "provided sha does not match query", code=ErrorCode.PERSISTED_QUERY_HASH_MISMATCH
            )
        if self.policy.ids_only(principal):
            raise id_required()
        prepared = self.registry.get(sha256_hex)
        if prepared is not None:
            return _of(prepared, name)
        if self.policy.list_only(principal):
            raise not_in_list()
        if not self.policy.apq:
            raise not_supported()
        if await store.get(sha256_hex.lower()) is not None:
            return Resolution(query, name, source="apq")  # registered before, checked then
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return Resolution(query, name)  # not stored; the view reports the syntax error
        if self.validator(document):
            return Resolution(query, name)  # not stored; the view reports the validation errors
        await store.put(sha256_hex.lower(), query)
        return Resolution(query, name, document, source="apq")

    def _free_form(self, query: str, name: str | None, principal: Principal | None) -> Resolution:
        if self.policy.ids_only(principal):
            raise id_required()
        prepared = self.registry.get(document_id(query))
        if prepared is not None:
            return _of(prepared, name)
        if self.policy.list_only(principal):
            prepared = self.registry.get(document_id(_canonical(query, self.max_tokens)))
            if prepared is None:
                raise not_in_list()
            return _of(prepared, name)
        return Resolution(query, name)


def id_required() -> PersistedQueryError:
    return PersistedQueryError(
        "Only persisted operations run here: send the operation's id (documentId, or "
        "extensions.persistedQuery without the query)",
        code=ErrorCode.PERSISTED_QUERY_ID_REQUIRED,
    )


def _of(prepared: PreparedOperation, name: str | None) -> Resolution:
    op = prepared.operation
    # A compiled plan runs its document's one operation: only when the request names that one.
    compiled = prepared.compiled if name in (None, op.name) else None
    return Resolution(op.body, name or op.name, prepared.document, source="manifest", compiled=compiled)


def _canonical(query: str, max_tokens: int | None) -> str:
    """The text `tidegate pq build` would write for this document ("" when it does not parse)."""
    try:
        return print_ast(parse(query, no_location=True, max_tokens=max_tokens))
    except GraphQLError:
        return ""


def _document_id_hex(value: object) -> str:
    if isinstance(value, str) and value.startswith("sha256:") and _SHA256.match(value[7:]):
        return value[7:]
    raise BadRequest("`documentId` must be `sha256:` and the 64 hex digits of the document's sha256")


def _apq_hash(value: object) -> str:
    if not isinstance(value, dict) or value.get("version") != 1:
        raise BadRequest("Unsupported persisted query version: send {version: 1, sha256Hash}")
    sha256_hex = value.get("sha256Hash")
    if not isinstance(sha256_hex, str) or not _SHA256.match(sha256_hex):
        raise BadRequest("`persistedQuery.sha256Hash` must be 64 hex digits")
    return sha256_hex


async def request_fields(request: Request) -> dict[str, Any] | None:
    """The request's GraphQL fields, read without judging them (the view does); None when they
    cannot be read (not GET or JSON POST, malformed JSON, not an object)."""
    if request.method == "GET":
        fields: dict[str, Any] = dict(request.query_params)
        if "extensions" in fields:
            try:
                fields["extensions"] = orjson.loads(fields["extensions"] or "null")
            except orjson.JSONDecodeError:
                return None
        return fields
    content_type = mime_type(request.headers.get("content-type", ""))
    if request.method != "POST" or content_type != "application/json":
        return None
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def open_persisted_queries(
    settings: Settings,
    schema: GraphQLSchema,
    operations: Iterable[PersistedOperation],
    compiler: Compiler | None = None,
) -> PersistedQueries:
    """The app's persisted queries, its manifest parsed and validated now, with the rules every
    request is validated with (graphql-core's specified rules and the gateway's limits)."""
    rules = (*specified_rules, *limit_rules(settings))
    validator = schema_validator(schema, rules, CostLimits.from_settings(settings))
    registry = ManifestRegistry.build(
        operations, validator, max_tokens=settings.limits.max_tokens, compiler=compiler
    )
    return PersistedQueries(
        registry,
        PersistedQueryPolicy.from_settings(settings),
        validator,
        max_tokens=settings.limits.max_tokens,
        store=MemoryApqStore(settings.persisted.apq_max_entries),
    )


def open_apq_store(settings: Settings, redis: RedisClient | None) -> ApqStore | None:
    """Redis when configured (every replica finds every registration); None: the in-process LRU."""
    return RedisApqStore(redis, settings.persisted.apq_ttl_s) if redis is not None else None
