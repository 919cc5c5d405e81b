"""`BodyLimit`: refuse request bodies over a size before anyone buffers them.

A declared `Content-Length` over the limit is refused before a byte is read; a chunked body is
counted as it streams and refused the moment it passes the limit, so a client cannot make the
BFF hold an arbitrarily large JSON document in memory.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.errors import PayloadTooLarge, error_response
from gateway.http.media_types import answer_media_type


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def too_large(self) -> PayloadTooLarge:
        """Made only for a body over the limit: nearly every request is under it."""
        return PayloadTooLarge(f"Request body is larger than {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)

        async def refuse() -> None:  # in the media type the client accepts (gateway.http.media_types)
            too_large = self.too_large()
            content_type = answer_media_type(headers).content_type
            refusal = error_response(too_large.status_code, too_large.message, content_type=content_type)
            await refusal(scope, receive, send)

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await refuse()
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self.too_large()
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except PayloadTooLarge:
            if started:
                raise
            await refuse()
