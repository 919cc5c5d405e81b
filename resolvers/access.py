"""Who is asking, and what they may see: the caller's principal and the customers bound to them.

The gateway authenticates the bearer token and the CTI tells us which call each agent is on;
this module is where both meet the data. Policy lives here once: resolvers ask it before
loading customer data, and the masking extension asks it before revealing a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Scopes (documented in the README). Roles are bundles of these, issued in the token's `scope`.
CUSTOMER_READ = "customer:read"  # read the customer on one's own call
CUSTOMER_READ_ANY = "customer:read:any"  # read any customer (supervisors)
PII_UNMASK = "pii:unmask"  # see PII unmasked, for customers one may read
TICKET_READ = "ticket:read"
NETWORK_READ = "network:read"
AUDIT_READ = "audit:read"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, from a verified access token."""

    subject: str
    client_id: str
    role: str
    scopes: frozenset[str]
    agent_id: str | None = None
    token_id: str | None = None

    def holds(self, any_of: list[list[str]]) -> bool:
        """Apollo's @requiresScopes meaning: the outer list is OR, each inner list is AND."""
        return any(all(scope in self.scopes for scope in group) for group in any_of)


@dataclass
class Access:
    """Per request: the principal and which customers they may read and unmask."""

    principal: Principal | None
    call_id: str | None = None
    bound_customers: set[str] = field(default_factory=set)

    def may_read(self, customer_no: str) -> bool:
        p = self.principal
        if p is None:
            return False
        if CUSTOMER_READ_ANY in p.scopes:
            return True
        return CUSTOMER_READ in p.scopes and customer_no in self.bound_customers

    def may_unmask(self, customer_no: str | None) -> bool:
        p = self.principal
        return (
            p is not None
            and customer_no is not None
            and PII_UNMASK in p.scopes
            and self.may_read(customer_no)
        )
