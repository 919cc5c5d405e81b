"""codes.yaml is validated when the client is built: a broken file names itself and the entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from backends.billing.client import BillingClient
from backends.billing.tables import ENUMS, FIELDS, TABLES_PATH, load_tables
from backends.codes import CodeTableError
from infra.http.config import BackendConfig

CONFIG = BackendConfig("billing", "http://billing.test")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = TABLES_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "codes.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_file_covers_every_table_and_field() -> None:
    tables = load_tables()
    assert set(tables.tables) == set(ENUMS) and set(tables.fields) >= FIELDS
    assert tables.field("account.account_no") == "HH" and tables.field("bill.outstanding") == "QFJE"


def test_every_code_the_simulated_system_documents_is_mapped() -> None:
    sizes = {name: len(table) for name, table in load_tables().tables.items()}
    assert sizes == {
        "account_status": 4,
        "use_type": 4,
        "pay_method": 5,
        "read_status": 8,
        "bill_status": 4,
        "direct_debit_status": 2,
        "adjustment_type": 4,
        "adjustment_status": 1,
    }


def test_unknown_enum_member_names_file_and_entry(tmp_path: Path) -> None:
    path = broken(tmp_path, '"4": ARREARS_NOTICE', '"4": IN_ARREARS')
    with pytest.raises(CodeTableError) as err:
        BillingClient(CONFIG, tables_path=path)
    message = str(err.value)
    assert str(path) in message and "account_status" in message and "'4'" in message
    assert "IN_ARREARS" in message


def test_missing_table_names_file_and_table(tmp_path: Path) -> None:
    text = TABLES_PATH.read_text(encoding="utf-8")
    block = re.search(r"  bill_status:.*?(?=\n  direct_debit_status:)", text, re.S)
    assert block is not None
    path = tmp_path / "codes.yaml"
    path.write_text(text.replace(block.group(0), ""), encoding="utf-8")
    with pytest.raises(CodeTableError) as err:
        BillingClient(CONFIG, tables_path=path)
    assert str(path) in str(err.value) and "bill_status" in str(err.value)


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    path = broken(tmp_path, "  bill.outstanding: QFJE\n", "")
    with pytest.raises(CodeTableError) as err:
        load_tables(path)
    assert str(path) in str(err.value) and "bill.outstanding" in str(err.value)


def test_unquoted_code_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, '"2": SUSPENDED', "2: SUSPENDED")
    with pytest.raises(CodeTableError, match="quoted"):
        load_tables(path)


def test_not_yaml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text("codes: [unclosed", encoding="utf-8")
    with pytest.raises(CodeTableError, match=re.escape(str(path))):
        load_tables(path)


def test_a_vendor_rename_is_a_data_change(tmp_path: Path) -> None:
    doc = yaml.safe_load(TABLES_PATH.read_text(encoding="utf-8"))
    doc["fields"]["account.arrears"] = "QFJE_NEW"
    path = tmp_path / "codes.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert load_tables(path).field("account.arrears") == "QFJE_NEW"
