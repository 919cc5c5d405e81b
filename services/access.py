"""Who is asking, and what they may see: the caller's principal and the call bound to them.

The gateway authenticates the bearer token and the CTI tells us which call each agent is on;
this module is where both meet the data. Policy lives here once: resolvers ask it before
loading customer data, and the masking extension asks it before revealing a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.calls import Call

# Scopes (documented in docs/security.md). Roles are bundles of these, issued in the token's `scope`.
CUSTOMER_READ = "customer:read"  # read the customers matched to one's own current call
CUSTOMER_READ_ANY = "customer:read:any"  # read any customer (supervisors)
PII_UNMASK = "pii:unmask"  # see PII unmasked, for customers one may read
PII_REVEAL = "pii:reveal"  # reveal one readable customer's PII on purpose, with a reason (audited)
TICKET_READ = "ticket:read"
TICKET_WRITE = "ticket:write"  # file repair tickets (least privilege still applies: services.mutations)
BILLING_ADJUST = "billing:adjust"  # ask billing to adjust what an account owes (supervisors)
INTERACTION_WRITE = "interaction:write"  # add notes to a contact's history (an agent: their caller's only)
NETWORK_READ = "network:read"
AUDIT_READ = "audit:read"
STAFF_CONTACT = "staff:contact"  # see field workers' own mobile numbers in clear (supervisors)
OUTAGE_DECLARE = "outage:declare"  # declare and restore outages, send the notices (supervisors)
BOARD_READ = "board:read"  # the supervisor's board: queue, agents, back-office health (supervisors)


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


@dataclass(frozen=True)
class Access:
    """Per request: the principal, and the call that scopes what an agent may read. Frozen: the
    checks below run for every customer-linked field, so what depends on the principal alone is
    decided once, when the request's access is made."""

    principal: Principal | None
    call: Call | None = None
    # Supervisors read any customer; everyone else only what their call matched.
    unrestricted: bool = field(init=False)

    def __post_init__(self) -> None:
        p = self.principal
        object.__setattr__(self, "unrestricted", p is not None and CUSTOMER_READ_ANY in p.scopes)

    @property
    def call_id(self) -> str | None:
        return self.call.call_id if self.call else None

    def may_read(self, customer_no: str) -> bool:
        if self.unrestricted:
            return True
        p = self.principal
        return bool(p and CUSTOMER_READ in p.scopes and self.call and customer_no in self.call.customers)

    def may_read_account(self, account_no: str) -> bool:
        if self.unrestricted:
            return True
        p = self.principal
        return bool(p and CUSTOMER_READ in p.scopes and self.call and account_no in self.call.accounts)

    def may_read_ticket(self, ticket_id: str, customer_no: str | None) -> bool:
        """A ticket raised on the agent's current call, or one of their caller's; supervisors: any."""
        if self.unrestricted:
            return True
        p, call = self.principal, self.call
        return bool(
            p
            and TICKET_READ in p.scopes
            and call
            and (ticket_id in call.tickets or (customer_no is not None and customer_no in call.customers))
        )

    def may_search_phone(self, national_number: str) -> bool:
        """An agent looks up only the number that is calling them right now."""
        if self.unrestricted:
            return True
        p = self.principal
        return bool(p and CUSTOMER_READ in p.scopes and self.call and self.call.caller == national_number)

    def may_see_staff_contact(self) -> bool:
        """Field workers' own mobiles: supervisors dispatch by phone; agents go through dispatch."""
        p = self.principal
        return p is not None and STAFF_CONTACT in p.scopes

    def may_unmask(self, customer_no: str | None) -> bool:
        p = self.principal
        return (
            p is not None
            and customer_no is not None
            and PII_UNMASK in p.scopes
            and self.may_read(customer_no)
        )
