"""All backend clients of one BFF process, opened at start-up and closed at shutdown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from backends.config import BackendConfig

BACKENDS = ("billing", "crm", "gis", "workorders")


@dataclass
class Backends:
    """The four clients. Constructing them loads and validates every code table (fail fast)."""

    configs: Mapping[str, BackendConfig]
    transports: Mapping[str, httpx.AsyncBaseTransport]

    @classmethod
    def open(
        cls,
        configs: Mapping[str, BackendConfig],
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> Backends:
        missing = sorted(set(BACKENDS) - set(configs))
        if missing:
            raise ValueError(f"backend configuration missing for {missing}")
        return cls(configs, transports or {})

    async def aclose(self) -> None:
        return None
