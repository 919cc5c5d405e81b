"""The audit trail of one request: every unmasked read and every refusal, never the values.

Resolvers and the masking extension note events here while the query runs; the gateway hands
the finished records to its sink (JSON lines, or a Redis stream) when the response is sent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from services.access import Access


def new_request_id() -> str:
    """A request's id in its audit records: 128 random bits as 32 hex digits, as unique as a UUID4's
    hex (122 bits) at a fifth of its cost (no `UUID` object built per request)."""
    return os.urandom(16).hex()


@dataclass
class AuditTrail:
    access: Access
    request_id: str
    operation: str | None = None
    _unmasked: dict[str, dict[str, None]] = field(default_factory=dict)  # customer -> its paths, in order
    _refusals: list[dict[str, Any]] = field(default_factory=list)
    _revealed: list[dict[str, Any]] = field(default_factory=list)
    _withheld: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _acts: list[dict[str, Any]] = field(default_factory=list)

    def unmasked(self, customer_no: str, path: str) -> None:
        """A PII field shown in clear: which customer, which field path (not the value)."""
        fields = self._unmasked.get(customer_no)
        if fields is None:
            fields = self._unmasked[customer_no] = {}
        fields[path] = None  # an ordered set: a list's `in` made a large answer's audit quadratic

    def revealed(self, customer_no: str, fields: list[str], reason: str) -> None:
        """PII an agent revealed on purpose (`revealCustomerPii`), with the reason they gave."""
        self._revealed.append({"customer": customer_no, "fields": fields, "reason": reason})

    def refused(self, target: str, key: str | None, reason: str) -> None:
        """A read that was not allowed: what was asked for (a kind and a key), and why."""
        self._refusals.append({"target": target, "key": key, "reason": reason, "at": time.time()})

    def acted(self, event: str, customer: str | None, **details: Any) -> None:
        """Something the caller did to who may see what (identified a caller, bound a call): what,
        to which customer, and why in their words; never the answers they checked."""
        self._acts.append({"event": event, "customer": customer, **details, "at": time.time()})

    def withheld(self, target: str, reason: str, keys: Iterable[str]) -> None:
        """Records left out of a list the caller may otherwise read: one refusal per request and
        reason, counting distinct records (never naming them), so a flood of withheld tickets, or
        one list asked for three ways, is one line with one count."""
        seen = self._withheld.setdefault((target, reason), set())
        before = len(seen)
        seen.update(keys)
        if len(seen) == before:
            return
        for refusal in self._refusals:
            if refusal["target"] == target and refusal["reason"] == reason and "withheld" in refusal:
                refusal["withheld"] = len(seen)
                return
        self._refusals.append(
            {"target": target, "key": None, "reason": reason, "withheld": len(seen), "at": time.time()}
        )

    def records(self) -> list[dict[str, Any]]:
        base = self._who()
        out = [
            {**base, "event": "unmasked_read", "customer": customer, "fields": list(fields)}
            for customer, fields in self._unmasked.items()
        ]
        out += [{**base, "event": "pii_revealed", **revealed} for revealed in self._revealed]
        out += [{**base, "event": "refused", **refusal} for refusal in self._refusals]
        out += [{**base, **act} for act in self._acts]
        return out

    def _who(self) -> dict[str, Any]:
        p = self.access.principal
        return {
            "time": time.time(),
            "request_id": self.request_id,
            "operation": self.operation,
            "subject": p.subject if p else None,
            "role": p.role if p else None,
            "client_id": p.client_id if p else None,
            "agent_id": p.agent_id if p else None,
            "call_id": self.access.call_id,
        }
