"""A small schema and an in-process client for the gateway's tests (not the screen-pop schema)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from strawberry.types import Info

from backends.registry import BACKENDS
from gateway.app import create_app
from gateway.auth import IssuerKey, LocalIssuer, StaticKeys
from gateway.auth.roles import load_roles
from gateway.http.extensions import schema_extensions
from gateway.settings import Settings
from infra.errors import BackendTimeout
from schema.execution import PolicedExecution
from services.context import RequestContext

# The gateway tests' token issuer: a key made once per session; apps get `keys=TEST_KEYS`.
TEST_ISSUER = LocalIssuer(
    IssuerKey.generate("ES256"),
    issuer=Settings().auth.token_issuer,
    audience=Settings().auth.token_audience,
    roles=load_roles(),
    clients={},
)
TEST_KEYS = StaticKeys(TEST_ISSUER.jwks())
# A GET runs an operation only with a preflight header (gateway.http.csrf): what Apollo's clients send.
PREFLIGHT = {"apollo-require-preflight": "true"}


def bearer(role: str = "agent", *, agent_id: str = "A1001", scope: str | None = None) -> dict[str, str]:
    """An Authorization header with a fresh token from the test issuer."""
    token = TEST_ISSUER.mint(client_id="workbench", role=role, agent_id=agent_id, scope=scope)
    return {"Authorization": f"Bearer {token}"}


@strawberry.type
class Node:
    @strawberry.field
    def child(self) -> Node:
        return Node()

    @strawberry.field
    def name(self) -> str:
        return "node"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def count(self, n: int) -> int:
        return n

    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def backends(self, info: Info[RequestContext, None]) -> list[str]:
        """The clients the lifespan opened, as each request's context sees them."""
        opened = info.context.backends
        return [name for name in BACKENDS if getattr(opened, name, None) is not None]

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError("unexpected failure for caller 13800138000")

    @strawberry.field
    def missing(self) -> str | None:
        raise GraphQLError("no such account", extensions={"code": "NOT_FOUND"})

    @strawberry.field
    def slow(self) -> str | None:
        raise BackendTimeout("billing", "no answer within 1.5 s")


def small_schema(settings: Settings) -> strawberry.Schema:
    """The gateway's extensions and executor (`PolicedExecution`, as `schema.build` sets it) on a
    schema of a few fields."""
    return strawberry.Schema(
        query=Query, extensions=schema_extensions(settings), execution_context_class=PolicedExecution
    )


@asynccontextmanager
async def serve(app: Starlette, headers: Mapping[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app as uvicorn runs it: lifespan started, its state copied into every request's scope.
    The client sends `headers`, by default an agent's bearer token from the test issuer.

    (httpx's ASGITransport runs no lifespan, and Starlette's TestClient is deprecated with httpx.)
    """
    async with serve_with_state(app, headers) as (client, _state):
        yield client


@asynccontextmanager
async def serve_with_state(
    app: Starlette, headers: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """`serve`, with the lifespan's state at hand too (the bus, the stores) for tests that look inside."""
    async with app.router.lifespan_context(app) as lifespan_state:
        state = dict(lifespan_state or {})

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        headers = bearer() if headers is None else headers
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bff.test", headers=headers
        ) as client:
            yield client, state


@pytest.fixture
def settings() -> Settings:
    return Settings(max_query_depth=5, max_aliases=3, max_tokens=200, max_body_bytes=2_048)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as c:
        yield c


def errors_of(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(code, message) of every error in a response body."""
    return [(e["extensions"]["code"], e["message"]) for e in body["errors"]]
