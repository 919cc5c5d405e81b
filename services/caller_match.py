"""`CallerMatch`: whether Tidegate knows who is calling, said explicitly rather than as an error.

New numbers, withheld numbers and a neighbour's landline are a large share of a contact centre's
calls, so "nobody on this number" is an answer of its own: `NO_MATCH` (with `searching` while
billing's slower phone search still runs for the call), `WITHHELD` (no caller id to look up),
`MATCHED` (the number found customers: from the CRM, billing, or billing's late answer) and
`IDENTIFIED` (the agent verified the caller and bound the call, `services.identify`). The workbench
offers identification for the first two, and for `MATCHED` when the caller is not who the number
says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.calls import Call
from services.context import RequestContext

LATE = "PHONE_BILLING_LATE"
IDENTIFIED = "IDENTIFIED"
PHONE = "PHONE"


class MatchStatus(StrEnum):
    MATCHED = "MATCHED"
    NO_MATCH = "NO_MATCH"
    WITHHELD = "WITHHELD"
    IDENTIFIED = "IDENTIFIED"
    UNKNOWN = "UNKNOWN"  # never sent today: every enum has it, for values a newer server adds


class MatchSource(StrEnum):
    PHONE = PHONE  # the calling number, within the pop's deadline
    PHONE_BILLING_LATE = LATE  # billing's phone search, after the pop had said no match
    IDENTIFIED = IDENTIFIED  # the agent verified the caller
    UNKNOWN = "UNKNOWN"  # never sent today


@dataclass(frozen=True, slots=True)
class CallerMatch:
    call_id: str
    status: MatchStatus
    searching: bool  # billing's phone search still runs for this number (in this process)
    source: MatchSource | None
    customer_nos: tuple[str, ...]


def judge(
    ctx: RequestContext,
    call_id: str,
    caller: str | None,
    customer_nos: tuple[str, ...],
    identified: str | None,
    matched_by: str | None,
    searching: bool | None = None,
) -> CallerMatch:
    """The match as these facts show it; `searching` None: ask this process's phone searches."""
    if identified is not None:
        return CallerMatch(call_id, MatchStatus.IDENTIFIED, False, MatchSource.IDENTIFIED, (identified,))
    if customer_nos:
        source = MatchSource(matched_by) if matched_by in (LATE, IDENTIFIED) else MatchSource.PHONE
        status = MatchStatus.IDENTIFIED if source is MatchSource.IDENTIFIED else MatchStatus.MATCHED
        return CallerMatch(call_id, status, False, source, customer_nos)
    if caller is None:
        return CallerMatch(call_id, MatchStatus.WITHHELD, False, None, ())
    if searching is None:
        searches = ctx.live.searches if ctx.live is not None else None
        searching = searches is not None and searches.running(caller)
    return CallerMatch(call_id, MatchStatus.NO_MATCH, searching, None, ())


def of_call(ctx: RequestContext, call: Call) -> CallerMatch:
    """The call's match as this process's registry has it now."""
    customers = tuple(sorted(call.customers))
    return judge(ctx, call.call_id, call.caller, customers, call.identified, call.matched_by)


def current(ctx: RequestContext) -> CallerMatch | None:
    """The caller's current call's match; None when they are on no call."""
    call = ctx.access.call
    return of_call(ctx, call) if call is not None else None
