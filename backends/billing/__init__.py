"""营收 (billing/revenue) backend: a SOAP 1.1 client and the anti-corruption layer over it."""

from backends.billing.client import BillingClient
from backends.billing.faults import SettlementInProgress

__all__ = ["BillingClient", "SettlementInProgress"]
