"""Where and how `tidegate serve` listens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gateway.settings.component import ComponentSettings

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class ServingSettings(ComponentSettings):
    """The listening socket, the log level, and the developer conveniences (off in production)."""

    host: str = "127.0.0.1"
    """Interface `tidegate serve` binds (`--host` overrides it)."""
    port: int = Field(default=8000, ge=0, le=65_535)
    """Port `tidegate serve` listens on (`--port` overrides it)."""
    workers: int = Field(default=1, ge=1, le=64)
    """Processes `tidegate serve` runs on its port (`--workers` overrides it). Each is a replica of the
    fleet (`infra.fleet`), so more than 1 needs a shared Redis."""
    drain_delay_s: float = Field(default=3.0, ge=0, le=60)
    """On SIGTERM, how long `/readyz` says `not_ready` while the replica still serves, before the
    server closes its socket and drains (balancers take it out first; `gateway.http.draining`).
    A second SIGTERM or a SIGINT skips the wait; 0: close at once."""
    shutdown_timeout_s: int = Field(default=30, ge=1, le=600)
    """Once the socket is closed, how long the server waits for requests in flight before it cancels
    them and shuts down anyway (a stuck request must not hold a deploy until the orchestrator kills)."""
    gc_young_threshold: int = Field(default=20_000, ge=700, le=1_000_000)
    """Allocations between two collections of the garbage collector's youngest generation (Python's
    own default is 700). A screen pop allocates tens of thousands of short-lived objects, nearly all
    freed by reference counting; at 700 the collector ran dozens of times per pop, re-scanning what
    was about to die anyway (about 6% of the BFF's CPU per pop, docs/benchmarks.md)."""
    log_level: LogLevel = "INFO"
    """Level of the JSON log lines on stderr (any case)."""
    dev_mode: bool = False
    """Introspection and "did you mean" suggestions on (the demo; GraphiQL needs introspection)."""
    graphiql: bool = False
    """Serve the offline GraphiQL page on `GET /graphql`; only together with `dev_mode`."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
