"""Identifying a caller the number did not: search, verify, bind. Least privilege all the way.

A new number, a withheld one or a neighbour's landline leaves the pop without the caller (or with the
wrong one). The agent then:

1. searches by 户号, address or name (`candidates`): only while on a call whose caller is not
   identified yet (`authorize.require_identification`), at most `MAX_SEARCHES` searches per call
   (each audited: by what, never the words) of at most `MAX_CANDIDATES` each, and what comes
   back is masked by the schema (name, 小区-level address, part of the 户号) with an opaque candidate
   id sealed to this call: the agent learns whom to ask about, not their data;
2. verifies the caller (`verify`): the last four characters of the ID number and the street, as the
   caller says them, checked here against billing's record, never shown; wrong answers count per
   call and lock identification on that call after `max_attempts` (`IDENTIFICATION_LOCKED`);
3. binds the call to the verified customer (`bind`, with the agent's reason): audited, the call's
   customers become that one alone on every replica (`CallRegistry.identified`, over the call feed),
   and the agent's pop is updated live. From then on the agent may read that customer and no other.

The attempts and the verified candidate of a call are kept in the cache store (Redis when
configured), so the three steps may land on different replicas.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from domain.records import Account, Customer
from infra.cache.cache import Cached
from infra.sealed import SealError
from services import caller_match
from services.authorize import require_identification
from services.calls import Call
from services.context import RequestContext
from services.customers import customers_from_billing
from services.errors import ErrorCode, bounded, guarded, public_error
from services.live import Live, screen_pop_channel
from services.pop_snapshot import PopSnapshot
from services.pop_store import StoredPop

logger = logging.getLogger("tidegate.identify")

MAX_CANDIDATES = 10
MAX_REASON = 200
ONE_WAY = "search by a 户号 (digits) alone, or by address and/or name"
LOCKED = "identification is locked on this call: too many wrong answers"
MAX_SEARCHES = 10  # per call
TOO_MANY_SEARCHES = f"at most {MAX_SEARCHES} identification searches per call"
_ACCOUNT_NO = re.compile(r"\d{1,10}")
_ID_LAST4 = re.compile(r"[0-9]{3}[0-9X]")
_HOUSE_NO = re.compile(r"\d+号")
_AFTER_DISTRICT = re.compile(r"^.*[省市区县镇]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Candidate:
    candidate_id: str  # sealed: the account number, for this agent and call only
    account: Account


@dataclass(frozen=True, slots=True)
class Verification:
    verified: bool
    attempts_left: int
    locked: bool


@guarded
async def candidates(
    ctx: RequestContext, account_no: str | None, address: str | None, name: str | None, first: int
) -> list[Candidate]:
    """Billing's accounts by 户号, or by part of the holder's name and/or address; masked by the schema."""
    call = require_identification(ctx)
    bounded("first", first, 1, MAX_CANDIDATES)
    live = _live(ctx)
    sealer = live.sealer
    assert live.identifications is not None
    account_no, address, name = (_clean(v) for v in (account_no, address, name))
    state = await live.identifications.state(call.call_id)
    if state["searches"] >= MAX_SEARCHES:  # ten masked rows at a time is still a way to page
        ctx.audit.refused("identification", call.call_id, "too many identification searches on this call")
        raise public_error(TOO_MANY_SEARCHES, ErrorCode.IDENTIFICATION_LOCKED)
    state["searches"] += 1
    await live.identifications.save(call.call_id, state)
    by = [k for k, v in (("accountNo", account_no), ("address", address), ("name", name)) if v is not None]
    ctx.audit.acted("caller_search", None, call_id=call.call_id, by=by)  # how, never what was typed
    if account_no is not None:
        if address is not None or name is not None or not _ACCOUNT_NO.fullmatch(account_no):
            raise public_error(
                "search by a 户号 (digits) alone, or by address and/or name", ErrorCode.BAD_USER_INPUT
            )
        number = account_no.zfill(10)
        found = list((await ctx.backends.billing.accounts([number])).values())
    else:
        if address is None and name is None:
            raise public_error("give a 户号, an address or a name to search by", ErrorCode.BAD_USER_INPUT)
        if any(v is not None and not 2 <= len(v) <= 40 for v in (address, name)):
            raise public_error("an address or name part is 2-40 characters", ErrorCode.BAD_USER_INPUT)
        found = await ctx.backends.billing.search_accounts(name, address, first)
    assert sealer is not None
    return [Candidate(sealer.seal(_aad(call), a.account_no), a) for a in found[:first]]


@guarded
async def verify(ctx: RequestContext, candidate_id: str, id_last4: str, street: str) -> Verification:
    """Check what the caller says against billing's record of the candidate; count wrong answers."""
    call = require_identification(ctx)
    live = _live(ctx)
    assert live.identifications is not None
    account_no = _open(ctx, live, call, candidate_id)
    state = await live.identifications.state(call.call_id)
    limit = live.identifications.max_attempts
    if state["attempts"] >= limit:
        ctx.audit.refused("identification", call.call_id, "identification locked: too many wrong answers")
        raise public_error(
            "identification is locked on this call: too many wrong answers", ErrorCode.IDENTIFICATION_LOCKED
        )
    account = (await ctx.backends.billing.accounts([account_no])).get(account_no)
    right = account is not None and _matches(account, id_last4, street)
    customer = account.customer_no if account is not None else None
    if right:
        state["verified"] = account_no
        await live.identifications.save(call.call_id, state)
        ctx.audit.acted("caller_verified", customer, call_id=call.call_id)
        return Verification(True, limit - state["attempts"], False)
    state["attempts"] += 1
    state["verified"] = None
    await live.identifications.save(call.call_id, state)
    locked = state["attempts"] >= limit
    ctx.audit.acted(
        "caller_verification_failed",
        customer,
        call_id=call.call_id,
        attempts=state["attempts"],
        locked=locked,
    )
    return Verification(False, max(0, limit - state["attempts"]), locked)


@guarded
async def bind(ctx: RequestContext, candidate_id: str, reason: str) -> caller_match.CallerMatch:
    """Bind the call to the verified candidate's customer, for every agent on it; audited with why."""
    call = require_identification(ctx)
    live = _live(ctx)
    assert live.identifications is not None
    why = reason.strip()
    if not why or len(why) > MAX_REASON:
        raise public_error(f"say why in 1-{MAX_REASON} characters", ErrorCode.BAD_USER_INPUT)
    account_no = _open(ctx, live, call, candidate_id)
    state = await live.identifications.state(call.call_id)
    if state["attempts"] >= live.identifications.max_attempts:
        raise public_error(LOCKED, ErrorCode.IDENTIFICATION_LOCKED)
    if state["verified"] != account_no:
        ctx.audit.refused("identification", call.call_id, "bind without a verified candidate")
        raise public_error("verify the caller before binding the call", ErrorCode.IDENTIFICATION_NOT_VERIFIED)
    account = (await ctx.backends.billing.accounts([account_no])).get(account_no)
    if account is None:
        raise public_error("the candidate's account is gone from billing", ErrorCode.NOT_FOUND)
    customer = await _customer(ctx, account)
    live.calls.identified(call, customer.customer_no, customer.account_nos or (account_no,))
    ctx.audit.acted("call_bound", customer.customer_no, call_id=call.call_id, account=account_no, reason=why)
    logger.info("call bound after identification", extra={"call_id": call.call_id})
    await _push(live, call, customer, account)
    return caller_match.of_call(ctx, call)


async def _customer(ctx: RequestContext, account: Account) -> Customer:
    """The CRM's record of the account's customer, else one pieced together from billing's account."""
    (pieced,) = customers_from_billing([account])
    found = await ctx.loaders.customer_by_no.load(account.customer_no)
    return found if found is not None else pieced


async def _push(live: Live, call: Call, customer: Customer, account: Account) -> None:
    """Each agent on the call gets the identified customer as a new `screenPop` event."""
    now = time.time()
    snapshot = PopSnapshot(
        taken_at=now,
        customers=(customer,),
        accounts={account.account_no: Cached(account, 0.0, stale=False, stored_at=now)},
        interactions={},
        tickets={},
        connections={},
        outages=None,
    )
    for agent_id in live.calls.holders(call.call_id):
        earlier = await live.pops.get(agent_id, call.call_id)
        ringing_at = earlier.ringing_at if earlier is not None else now
        pop = StoredPop(
            agent_id, call.call_id, call.caller, ringing_at, snapshot, matched_by=caller_match.IDENTIFIED
        )
        await live.bus.publish(screen_pop_channel(agent_id), await live.pops.put(pop))


def _matches(account: Account, id_last4: str, street: str) -> bool:
    """The last four of the ID number (X either case), and the street of the address: what stands
    between the last 省/市/区/县/镇 and the house number (2+ characters of it, spaces ignored)."""
    last4 = id_last4.strip().upper()
    id_card = (account.id_card or "").upper()
    if not _ID_LAST4.fullmatch(last4) or len(id_card) < 4 or id_card[-4:] != last4:
        return False
    said = _SPACES.sub("", street)
    address = _SPACES.sub("", account.address or "")
    house = _HOUSE_NO.search(address)
    before = address[: house.start()] if house is not None else address
    street = _AFTER_DISTRICT.sub("", before)  # 江城市临江区新华路 -> 新华路: a city is no answer
    return len(said) >= 2 and said in street


def _open(ctx: RequestContext, live: Live, call: Call, candidate_id: str) -> str:
    """The account number a candidate id stands for, if it was issued for this agent's call."""
    try:
        opened = live.sealer.open(_aad(call), candidate_id) if live.sealer is not None else None
    except SealError:
        opened = None
    if not isinstance(opened, str):
        ctx.audit.refused("identification", None, "a candidate id not issued for this call")
        raise public_error("unknown candidate: search again on this call", ErrorCode.BAD_USER_INPUT)
    return opened


def _live(ctx: RequestContext) -> Live:
    live = ctx.live
    if live is None or live.sealer is None or live.identifications is None:
        raise public_error("identification is not available here", ErrorCode.BAD_USER_INPUT)
    return live


def _clean(value: str | None) -> str | None:
    cleaned = value.strip() if value is not None else ""
    return cleaned or None


def _aad(call: Call) -> str:
    return f"identify:{call.call_id}"
