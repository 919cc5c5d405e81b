"""Which code tables and column names `codes.yaml` must provide, and loading it at start-up."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from backends.codes import CodeTables, load_code_tables
from domain.enums import (
    AccountStatus,
    BillStatus,
    DirectDebitStatus,
    FeeAdjustmentReason,
    FeeAdjustmentStatus,
    MeterReadStatus,
    PaymentMethod,
    WaterUseType,
)

TABLES_PATH = Path(__file__).with_name("codes.yaml")

ENUMS: dict[str, type[Enum]] = {
    "account_status": AccountStatus,
    "use_type": WaterUseType,
    "pay_method": PaymentMethod,
    "read_status": MeterReadStatus,
    "bill_status": BillStatus,
    "direct_debit_status": DirectDebitStatus,
    "adjustment_type": FeeAdjustmentReason,
    "adjustment_status": FeeAdjustmentStatus,
}


def _named(record: str, *names: str) -> set[str]:
    return {f"{record}.{name}" for name in names}


FIELDS = frozenset(
    {
        *_named("request", "account_no", "account_list", "periods", "phone"),
        *_named(
            "account",
            *("row", "account_no", "holder_name", "customer_no", "address", "status", "use_type"),
            *("pay_method", "mobile", "landline", "id_card", "balance", "arrears", "late_fee"),
            *("current_tier", "year_to_date_m3", "opened_on", "meter_no", "direct_debit"),
        ),
        *_named(
            "bill",
            *("row", "bill_no", "period", "read_at", "usage_m3", "water", "sewage", "resource"),
            *("total", "paid", "outstanding", "status", "issued_on", "due_on", "paid_at"),
        ),
        *_named("tier", "row", "tier", "volume_m3", "unit_price", "amount"),
        *_named("payment", "row", "serial", "paid_at", "amount", "method", "bill_no"),
        *_named(
            "direct_debit",
            *("row", "bank_code", "bank_name", "bank_account", "holder", "status", "signed_on"),
        ),
        *_named("meter", "row", "meter_no", "size_mm", "installed_on"),
        *_named("read", "row", "read_on", "previous_reading", "reading", "usage_m3", "status", "reader"),
        *_named(
            "adjustment",
            *("type", "amount", "reason", "operator", "bill_no"),
            *("request_no", "account_no", "status", "submitted_at"),
        ),
    }
)


def load_tables(path: Path | None = None) -> CodeTables:
    """Validated tables; a CodeTableError naming the file and entry stops start-up otherwise."""
    return load_code_tables("billing", path or TABLES_PATH, ENUMS, FIELDS)
