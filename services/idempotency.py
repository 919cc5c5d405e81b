"""Idempotent mutations: a client's key makes a retried write safe, whatever happened to the first try.

A key is scoped to (the token's client id, the mutation) and stored with a fingerprint of the
canonical input and the caller. Then:

- same key, same input, answered before  -> the stored answer, no backend call;
- same key, different input (or caller)  -> IDEMPOTENCY_KEY_REUSED;
- same key while the first is running     -> IDEMPOTENCY_IN_PROGRESS (with `retryAfter`);
- the write failed in a way that may still have landed (a timeout, a lost connection): look for it
  at once (`find`, by our reference in the back office); if it is not there yet, the key stays
  *uncertain* for `settle_s` (IDEMPOTENCY_IN_PROGRESS meanwhile) and the next attempt looks again
  before writing. A second order is never made on a guess.

An attempt that changed nothing (refused input, a lookup failing before the write) frees the key.

Without the store (Redis away), a mutation whose back office keeps one write per reference
(`unique_reference=True`: createTicket, whose work-order system refuses a second order under a
`client_ref` and names the first) still runs: look the reference up; found -> that is the answer;
not found -> write under it; a write racing another (two replicas, a retry) is refused by the back
office and answered with the order it names. What is weaker meanwhile: the answer is the order as the
back office has it now (a replay from the store is the first answer, byte for byte); no
IDEMPOTENCY_IN_PROGRESS (concurrent attempts each do the lookups; all but one create are refused); a key
reused for another input is caught only by the fingerprint the caller stored at the back office
(`mutations.py`). A mutation without such a back office (requestFeeAdjustment: billing has no
lookup) is refused while the store is away, as before: BACKEND_UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import orjson

from infra import codec
from infra.deadline import deadline
from infra.errors import (
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
)
from infra.idempotency_store import (
    Claim,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    Outcome,
)
from infra.resilience.breaker import CallNotPermitted
from services.errors import ErrorCode, public_error

logger = logging.getLogger("tidegate.idempotency")

T = TypeVar("T")
_KEY = re.compile(r"[\x21-\x7e]{1,128}")  # visible ASCII: a UUID, a ULID, "ws-42-7", ...


@dataclass(frozen=True, slots=True)
class IdempotencyPolicy:
    ttl_s: float = 86_400.0  # how long an answer is replayed (and a key remembered)
    lease_s: float = 30.0  # a running attempt older than this has died: the next one reconciles
    settle_s: float = 5.0  # after a write in doubt, how long before looking for it means anything


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's key in its scope: `record` names the store entry, `reference` goes to the back office."""

    record: str
    reference: str


class InDoubt(Exception):
    """The one call that changes the world failed in a way that may have changed it anyway.
    `settled`: the back office answered (so it is done either way); else it may still be working."""

    def __init__(self, cause: BackendError, *, settled: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.settled = settled


def scoped_key(client_id: str, mutation: str, key: str) -> IdempotencyKey:
    """Hashed with its scope, so two clients' "42" never meet in the store or in the back office."""
    if not _KEY.fullmatch(key):
        raise public_error(
            "idempotencyKey must be 1 to 128 visible ASCII characters (a UUID is ideal)",
            ErrorCode.BAD_USER_INPUT,
        )
    digest = hashlib.sha256(orjson.dumps([client_id, mutation, key])).hexdigest()
    return IdempotencyKey(record=f"{mutation}:{digest}", reference=f"TG{digest[:30].upper()}")


def fingerprint(*parts: Any) -> str:
    """The canonical input (plus whoever asks): JSON with sorted keys, hashed."""
    return hashlib.sha256(orjson.dumps(codec.encode(list(parts)), option=orjson.OPT_SORT_KEYS)).hexdigest()


async def side_effect(call: Awaitable[T]) -> T:
    """Await the write itself with its own timeout (not what is left of the operation's budget: cutting
    a write short buys an uncertain outcome); failures that may have written become `InDoubt`."""
    try:
        with deadline(None):
            return await call
    except (CallNotPermitted, BackendRejected):
        raise  # never sent, or answered "no": nothing changed
    except BackendProtocolError as exc:
        raise InDoubt(exc, settled=True) from exc  # answered, but we cannot read the answer
    except BackendServerError as exc:
        raise InDoubt(exc, settled=exc.vendor_code is not None) from exc  # a 5xx answered; a reset did not
    except BackendUnavailable as exc:
        raise InDoubt(exc, settled=False) from exc  # a timeout: it may still be working on it


class Idempotency:
    """The store and the policy, for every mutation of one BFF process."""

    def __init__(self, store: IdempotencyStore, policy: IdempotencyPolicy | None = None) -> None:
        self.store = store
        self.policy = policy or IdempotencyPolicy()

    async def run(
        self,
        key: IdempotencyKey,
        fingerprint: str,
        kind: type[T],
        *,
        find: Callable[[], Awaitable[T | None]],
        perform: Callable[[], Awaitable[T]],
        unique_reference: bool = False,
    ) -> T:
        """`perform` the write once per key; `find` it after a doubt; `kind` rebuilds a stored answer.
        `unique_reference`: the back office itself refuses a second write under `key.reference` (and
        answers with the first), so without the store the write goes ahead on `find`'s word."""
        p = self.policy
        try:
            claim = await self.store.claim(key.record, fingerprint, lease_s=p.lease_s, ttl_s=p.ttl_s)
        except IdempotencyStoreUnavailable as exc:
            if not unique_reference:
                raise
            logger.warning(
                "idempotency store unavailable: the back office's reference stands in for it",
                extra={"key": key.record, "error": str(exc)},
            )
            return await self._unrecorded(find, perform)
        token = _started(claim)
        if token is None:
            return await self._replay(kind, claim.response, find)
        try:
            value = await find() if claim.reconcile else None
            if value is None:
                value = await perform()
        except InDoubt as doubt:
            looked, value = await self._look_again(find)  # the same request, before answering
            if value is None:
                await self._unresolved(key, token, doubt, looked=looked)
                raise _unconfirmed(doubt, 0 if doubt.settled else p.settle_s) from doubt.cause
        except asyncio.CancelledError:
            await asyncio.shield(
                self._quietly(self.store.doubt(key.record, token, settle_s=p.settle_s, ttl_s=p.ttl_s))
            )
            raise
        except BaseException:
            # Nothing was written. After an earlier doubt the key stays in doubt (to be reconciled).
            release = (
                self.store.doubt(key.record, token, settle_s=0, ttl_s=p.ttl_s)
                if claim.reconcile
                else self.store.abandon(key.record, token)
            )
            await self._quietly(release)
            raise
        if not await self._quietly(
            self.store.complete(key.record, token, codec.encode(value), ttl_s=p.ttl_s)
        ):
            logger.warning(
                "idempotency record not completed: a retry will reconcile", extra={"key": key.record}
            )
        return value

    async def _unrecorded(
        self, find: Callable[[], Awaitable[T | None]], perform: Callable[[], Awaitable[T]]
    ) -> T:
        """No record to consult: the back office's one write per reference stands in for the claim."""
        found = await find()
        if found is not None:
            return found
        try:
            return await perform()
        except InDoubt as doubt:
            _, value = await self._look_again(find)
            if value is None:  # retrying is safe now: a create that did land refuses the second
                raise _unconfirmed(doubt, 0) from doubt.cause
            return value

    async def _replay(self, kind: type[T], stored: Any, find: Callable[[], Awaitable[T | None]]) -> T:
        """The stored answer; one stored by an older deploy in another shape is found again instead."""
        try:
            return cast(T, codec.decode(kind, stored))
        except (ValueError, TypeError) as exc:
            logger.warning("stored answer unreadable; finding the write instead", extra={"error": str(exc)})
        found = await find()
        if found is None:
            raise RuntimeError("a completed write is gone from the back office")
        return found

    async def _look_again(self, find: Callable[[], Awaitable[T | None]]) -> tuple[bool, T | None]:
        """(whether the look itself worked, what it found)."""
        try:
            with deadline(None):
                return True, await find()
        except BackendError as exc:
            logger.warning("reconciling a write in doubt failed", extra={"error": str(exc)})
            return False, None

    async def _unresolved(self, key: IdempotencyKey, token: str, doubt: InDoubt, *, looked: bool) -> None:
        """Answered and not there: nothing was written, the key is free. Otherwise it may land yet
        (or we could not look): the key stays in doubt, and the next attempt reconciles."""
        p = self.policy
        if doubt.settled and looked:
            await self._quietly(self.store.abandon(key.record, token))
        else:
            settle_s = 0.0 if doubt.settled else p.settle_s
            await self._quietly(self.store.doubt(key.record, token, settle_s=settle_s, ttl_s=p.ttl_s))

    async def _quietly(self, step: Awaitable[bool]) -> bool:
        """A store step after the claim: failing it costs a wait (the lease), never the answer."""
        try:
            return await step
        except IdempotencyStoreUnavailable as exc:
            logger.warning("idempotency store failed after the claim", extra={"error": str(exc)})
            return False


def _unconfirmed(doubt: InDoubt, retry_after_s: float) -> Exception:
    return public_error(
        f"{doubt.cause.backend} did not confirm the write ({doubt.cause.message}); "
        "retry with the same idempotencyKey",
        doubt.cause.code,
        backend=doubt.cause.backend,
        retryAfter=max(1, math.ceil(retry_after_s)),
    )


def _started(claim: Claim) -> str | None:
    """The token when the caller now holds the key; None to replay; raises for every other outcome."""
    if claim.outcome is Outcome.STARTED:
        assert claim.token is not None
        return claim.token
    if claim.outcome is Outcome.DONE:
        return None
    if claim.outcome is Outcome.REUSED:
        raise public_error(
            "this idempotencyKey was already used with a different input", ErrorCode.IDEMPOTENCY_KEY_REUSED
        )
    raise public_error(
        "a request with this idempotencyKey is still being processed; retry with the same key",
        ErrorCode.IDEMPOTENCY_IN_PROGRESS,
        retryAfter=max(1, math.ceil(claim.wait_s)),
        state=str(claim.outcome).upper(),
    )
