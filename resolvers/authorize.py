"""Least privilege at the data: refuse before loading, record every refusal, reveal nothing.

A refusal reads the same whether or not the customer, account or ticket exists, so an agent
cannot use the API to learn who else is a customer.
"""

from __future__ import annotations

from graphql import GraphQLError

from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, public_error

NOT_YOURS = "not allowed: only the customers matched to your current call"


def _refuse(ctx: RequestContext, target: str, key: str | None, reason: str) -> GraphQLError:
    ctx.audit.refused(target, key, reason)
    return public_error(NOT_YOURS, ErrorCode.FORBIDDEN)


def require_customer(ctx: RequestContext, customer_no: str) -> None:
    if not ctx.access.may_read(customer_no):
        raise _refuse(ctx, "customer", customer_no, "customer not matched to the caller's current call")


def require_account(ctx: RequestContext, account_no: str) -> None:
    if not ctx.access.may_read_account(account_no):
        raise _refuse(ctx, "account", account_no, "account not matched to the caller's current call")


def require_phone_search(ctx: RequestContext, national_number: str) -> None:
    if not ctx.access.may_search_phone(national_number):
        raise _refuse(ctx, "phone", None, "number is not the caller on the agent's current call")


def require_unrestricted(ctx: RequestContext, target: str) -> None:
    """District-wide lists are for supervisors: agents never page through customers' data."""
    if not ctx.access.unrestricted:
        raise _refuse(ctx, target, None, "district-wide listing needs customer:read:any")


def refused_ticket(ctx: RequestContext, ticket_id: str) -> GraphQLError:
    return _refuse(ctx, "ticket", ticket_id, "ticket not raised for a customer on the caller's current call")
