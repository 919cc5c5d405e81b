"""`backends/gis/codes.yaml`: loaded and validated when the client is built; a broken copy stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.codes import CodeTableError
from backends.gis.client import GisClient
from backends.gis.tables import DEFAULT_PATH, load_tables
from domain.enums import OutageStatus
from infra.http.config import BackendConfig


def test_the_shipped_tables_load_and_derive_queries() -> None:
    tables = load_tables()
    assert tables.layer("connection") == "2"
    assert tables.field("connection", "account_no") == "ACCT_NO"
    assert "*" not in tables.out_fields("outage")
    assert tables.out_fields("grid") == "OBJECTID,GRID_CODE,GRID_NAME,WORKER_ID,WORKER_NAME,WORKER_MOBILE"
    assert tables.raw_codes("outage_status", OutageStatus.ACTIVE) == (1,)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('"2": PE ', '"2": POLYETHYLENE ', "codes.pipe_material.'2'"),
        ('"2": PE ', "2: PE ", "codes.pipe_material: code 2 must be quoted"),
        ('"2": PE ', '"B2": PE ', "codes.pipe_material.'B2'"),
        ("  outage_kind:", "  outage_kinds:", "tables missing ['outage_kind']"),
        (
            "  connection.account_no: ACCT_NO",
            "  connection.account_no: ACCT NO",
            "fields.connection.account_no",
        ),
        ("  connection.account_no: ACCT_NO", "  connection.acount_no: ACCT_NO", "connection.account_no"),
        ('  layer.grid: "3"', "  layer.grid: three", "fields.layer.grid"),
        ('  layer.grid: "3"', "  layer.grid: 3", "fields.layer.grid"),
        ("fields:", "fields: [", "not valid YAML"),
    ],
)
def test_a_broken_copy_names_the_file_and_the_entry(tmp_path: Path, old: str, new: str, named: str) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "codes.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CodeTableError) as caught:
        GisClient(BackendConfig("gis", "http://gis.test"), tables_path=broken)
    assert str(broken) in str(caught.value)
    assert named in str(caught.value)


def test_an_unknown_field_key_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "codes.yaml"
    broken.write_text(DEFAULT_PATH.read_text(encoding="utf-8") + "  grid.colour: COLOUR\n", encoding="utf-8")
    with pytest.raises(CodeTableError, match=r"fields\.grid\.colour"):
        load_tables(broken)


def test_a_missing_file_is_a_code_table_error(tmp_path: Path) -> None:
    with pytest.raises(CodeTableError, match="cannot read"):
        load_tables(tmp_path / "nope.yaml")
