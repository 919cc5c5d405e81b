"""A stand-in IdP key endpoint, run as its own process: serves a JWKS and counts every fetch.

    python -m tests.gateway.auth.jwks_server --port N

`GET /jwks.json` serves the current set (empty until a test `PUT`s one) and counts the fetch;
`GET /_stats` returns the counts; `POST /_stats/reset` clears them. Any other GET is counted
under `other` and answers 404: a token's `jku` pointing here must never show up there.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

state: dict[str, Any] = {"jwks": {"keys": []}, "fetches": 0, "other": 0}


async def jwks(request: Request) -> Response:
    if request.method == "PUT":
        state["jwks"] = await request.json()
        return JSONResponse({"ok": True})
    state["fetches"] += 1
    return JSONResponse(state["jwks"])


async def stats(request: Request) -> Response:
    if request.method == "POST":
        state["fetches"] = state["other"] = 0
    return JSONResponse({"fetches": state["fetches"], "other": state["other"]})


async def anything_else(_request: Request) -> Response:
    state["other"] += 1
    return JSONResponse({"error": "not here"}, 404)


app = Starlette(
    routes=[
        Route("/jwks.json", jwks, methods=["GET", "PUT"]),
        Route("/_stats", stats, methods=["GET"]),
        Route("/_stats/reset", stats, methods=["POST"]),
        Route("/{path:path}", anything_else, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
