"""Billing accounts and what hangs off them: bills, payments, the meter, the bank mandate."""

from __future__ import annotations

import re

from domain.records import Account, Bill, DirectDebit, Meter, Outage, Payment, ServiceConnection
from infra.cache.cache import Cached
from services.authorize import require_account
from services.context import RequestContext
from services.customers import outages_covering
from services.errors import ErrorCode, bounded, guarded, public_error
from services.freshness import ResponsePath
from services.outage_impact import AccountOutage, outages_for_accounts

_ACCOUNT_NO = re.compile(r"\d{1,10}")


def normalize_account_no(raw: str) -> str:
    """Agents type 户号 without the leading zeros the billing system keeps: pad to 10 digits."""
    cleaned = raw.strip()
    if not _ACCOUNT_NO.fullmatch(cleaned):
        raise public_error(f"an account number is 1 to 10 digits, got {raw!r}", ErrorCode.BAD_USER_INPUT)
    return cleaned.zfill(10)


@guarded
async def cached_record(ctx: RequestContext, account_no: str) -> Cached[Account]:
    """The account with how old it is: arrears status is cached (docs/resilience.md)."""
    require_account(ctx, account_no)
    found = await ctx.loaders.account_by_no.load(account_no)
    if found is None:
        raise public_error(f"no account {account_no}", ErrorCode.NOT_FOUND)
    return found


async def record(ctx: RequestContext, account_no: str, at: ResponsePath | None = None) -> Account:
    """The account; served stale, it is noted at `at` (the Account object's path)."""
    return ctx.freshness.saw(at, await cached_record(ctx, account_no))


@guarded
async def bills(ctx: RequestContext, account_no: str, last: int) -> list[Bill]:
    require_account(ctx, account_no)
    return await ctx.loaders.bills_by_account.load((account_no, bounded("last", last)))


@guarded
async def payments(ctx: RequestContext, account_no: str, last: int) -> list[Payment]:
    require_account(ctx, account_no)
    return await ctx.loaders.payments_by_account.load((account_no, bounded("last", last)))


@guarded
async def meter(ctx: RequestContext, account_no: str, reads: int) -> Meter:
    require_account(ctx, account_no)
    return await ctx.loaders.meter_by_account.load((account_no, bounded("reads", reads)))


@guarded
async def direct_debit(ctx: RequestContext, account_no: str) -> DirectDebit | None:
    require_account(ctx, account_no)
    return await ctx.loaders.direct_debit_by_account.load(account_no)


@guarded
async def connection(
    ctx: RequestContext, account_no: str, at: ResponsePath | None = None
) -> ServiceConnection | None:
    require_account(ctx, account_no)
    found = await ctx.loaders.connection_by_account.load(account_no)
    return None if found is None else ctx.freshness.saw(at, found)


@guarded
async def active_outages(
    ctx: RequestContext, account_no: str, at: ResponsePath | None = None
) -> list[Outage]:
    require_account(ctx, account_no)
    return await outages_covering(ctx, [account_no], at)


@guarded
async def outage_impacts(
    ctx: RequestContext, account_no: str, at: ResponsePath | None = None
) -> list[AccountOutage]:
    require_account(ctx, account_no)
    return await outages_for_accounts(ctx, [account_no], at)
