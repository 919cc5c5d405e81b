"""Reading a GraphQL-over-HTTP request before and outside execution: its shape, its document and
operation name (for admission and the answered-call screen pop), without judging the document.

A persisted request (a hash or a `documentId`) has no text of its own: `current_resolution` holds the
document the manifest or the APQ store resolved it to, and everything here reads that instead.
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from strawberry.http import GraphQLRequestData

from gateway.http.errors import BadRequest
from gateway.persisted.queries import current_resolution

# The softphone's screen pop (gql/screen_pop.graphql): served from the ring-time pop once answered.
_SCREEN_POP = re.compile(r"^\s*query\s+ScreenPop\b", re.MULTILINE)


async def is_screen_pop(request: Request) -> bool:
    query, operation = await query_of(request)
    return operation == "ScreenPop" or (operation is None and bool(query and _SCREEN_POP.search(query)))


async def query_of(request: Request) -> tuple[str | None, str | None]:
    """The document and operation name, read cheaply and without judging them (the view does);
    for a persisted request, the resolved document's text."""
    resolution = current_resolution.get()
    if resolution is not None:
        return resolution.query, resolution.operation_name
    if request.method == "GET":
        return request.query_params.get("query"), request.query_params.get("operationName")
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return None, None
    name = data.get("operationName")
    return data["query"], name if isinstance(name, str) else None


def request_data(data: object) -> GraphQLRequestData:
    """Check the shape of a GraphQL-over-HTTP request; Strawberry assumes an object."""
    if not isinstance(data, dict):
        raise BadRequest("The request must be a JSON object with a `query` (batching is not supported)")
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    if not isinstance(query, str | None):
        raise BadRequest("`query` must be a string")
    if not isinstance(variables, dict | None):
        raise BadRequest("`variables` must be an object")
    if not isinstance(operation_name, str | None):
        raise BadRequest("`operationName` must be a string")
    if not isinstance(extensions, dict | None):
        raise BadRequest("`extensions` must be an object")
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=operation_name, extensions=extensions
    )
