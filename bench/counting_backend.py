"""A back office that answers at once and counts what it was asked: the witness `bench/backend_client.py`
reads to show that each leg made the calls it claims.

Any method on any path gets the same small JSON body (the size of a CRM contact search's answer) with
HTTP 200; `GET /_stats` answers `{"requests": n}`, the calls counted so far, itself not counted. Runs
in its own process so its CPU is not charged to the client being measured:

    python -m bench.counting_backend --port 8300
"""

from __future__ import annotations

import argparse

import orjson
from aiohttp import web

STATS = "/_stats"
BODY = orjson.dumps(
    {
        "items": [
            {
                "contactId": f"C{i:08d}",
                "customerNo": f"KH{i:010d}",
                "name": "张三",
                "mobiles": ["13800138000"],
                "accounts": ["1000000001", "1000000002"],
                "tags": ["VIP", "老人"],
            }
            for i in range(4)
        ],
        "next": None,
    }
)


def create_app() -> web.Application:
    count = web.AppKey("count", list[int])
    app = web.Application()
    app[count] = [0]

    async def answer(request: web.Request) -> web.Response:
        if request.path == STATS:
            return web.json_response({"requests": app[count][0]})
        await request.read()
        app[count][0] += 1
        return web.Response(body=BODY, content_type="application/json")

    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(create_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
