"""The CRM's REST API: contacts by phone or customer number, interaction histories in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from backends.config import BackendConfig
from backends.crm import mapping
from backends.domain.records import Customer, Interaction
from backends.errors import BackendProtocolError
from backends.http import BackendHttp
from backends.rest import RestApi

API = "/crm/api/v2"


class CrmClient:
    name = "crm"
    MAX_BATCH = 100

    def __init__(
        self,
        config: BackendConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tables_path: Path | None = None,
    ) -> None:
        tables = mapping.load_tables(tables_path or mapping.TABLES_PATH)
        self.api = RestApi(
            BackendHttp(config, transport), tables, message_key="message", max_batch=self.MAX_BATCH
        )

    async def contacts_by_phone(self, phone: str) -> list[Customer]:
        """`phone` in national digits; every customer on record with that number."""
        body = await self.api.get("searchContacts", f"{API}/contacts", {"phone": phone})
        return self.api.rows(body, "items", mapping.customer, "searchContacts")

    async def contacts_by_customer_no(self, customer_nos: Sequence[str]) -> dict[str, Customer]:
        """One bulk query for up to 100 customers; unknown ones are simply absent."""
        self.api.check_batch(customer_nos)
        payload = {"customerNos": [mapping.to_crm_customer_no(n) for n in customer_nos]}
        body = await self.api.post("searchContactsBulk", f"{API}/contacts:search", payload, idempotent=True)
        return {
            c.customer_no: c for c in self.api.rows(body, "items", mapping.customer, "searchContactsBulk")
        }

    async def interactions(self, crm_ids: Sequence[str], last: int) -> dict[str, list[Interaction]]:
        """The latest `last` interactions (newest first) of each contact, in one call."""
        op = "batchQueryInteractions"
        self.api.check_batch(crm_ids)
        body = await self.api.post(
            op,
            f"{API}/interactions:batchQuery",
            {"contactIds": list(crm_ids), "limitPerContact": last},
            idempotent=True,  # a query sent as POST: safe to retry
        )
        out: dict[str, list[Interaction]] = {cid: [] for cid in crm_ids}
        for cid, rows in self.api.field(body, "results", dict, op).items():
            if not isinstance(rows, list):
                raise BackendProtocolError(self.name, f"{op}: results[{cid!r}] is not a list")
            out[cid] = [self.api.record(mapping.interaction, row, op) for row in rows]
        return out

    async def aclose(self) -> None:
        await self.api.http.aclose()
