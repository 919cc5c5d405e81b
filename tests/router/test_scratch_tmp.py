import asyncio, json
import httpx
from tests.router.conftest import Fleet
from bench.graphql_ws import GraphQLWs

async def test_scratch(fleet: Fleet) -> None:
    body = {"query": "subscription { ticketUpdated(ticketId: \"GD1\") { id status } }"}
    headers = {"Authorization": "Bearer nope", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            async with asyncio.timeout(75):
                async with client.stream("POST", fleet.graphql, json=body, headers=headers) as s:
                    print("STATUS", s.status_code)
                    async for line in s.aiter_lines():
                        print("LINE", __import__("time").monotonic(), line)
        except TimeoutError:
            print("SSE TIMEOUT")
    return
    try:
        async with asyncio.timeout(8):
            async with GraphQLWs.connect(fleet.graphql.replace("http://", "ws://"), "nope") as ws:
                op = await ws.subscribe("subscription { ticketUpdated(ticketId: \"GD1\") { id status } }", {})
                print("WS", await ws.next_message() if hasattr(ws, "next_message") else None)
    except Exception as e:
        print("WS EXC", type(e), e)
    print(fleet.router.log()[-3000:])
