"""The masking rules, on the seeded world's real values and as properties over any value."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.mask_rules import mask_value
from schema.masking import (
    MaskKind,
    mask_address,
    mask_bank_account,
    mask_id_card,
    mask_landline,
    mask_mobile,
    mask_name,
    mask_phone,
    star,
)
from schema.masking import _star_walked as star_walked
from tests.support.world import seeded_world

WORLD = seeded_world()
PEOPLE = [c for c in WORLD.customers if c.kind == "person"]
ORGS = [c for c in WORLD.customers if c.kind == "org"]


def national(landline: str) -> str:
    """The BFF's form of a world landline: `0571-86123456` -> `057186123456`."""
    return landline.replace("-", "")


def test_examples_from_the_issue() -> None:
    assert mask_id_card("35050519440919112X") == "**************112X"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_landline("057186123456") == "0571****3456"
    assert mask_landline("01012345678") == "010****5678"  # Beijing: three-digit area code
    assert mask_bank_account("6222021234567890123") == "***************0123"
    assert mask_name("张小明") == "张*明"
    assert mask_name("周成") == "周*"
    assert mask_name("张") == "*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_address("江城市临江区人民路201号湖畔嘉园1幢1单元601室") == "江城市临江区人民路201号湖畔嘉园"
    assert mask_address("江城市临江区人民路201号") == "江城市临江区人民路"


def test_latin_and_organisation_names_keep_only_their_first_character() -> None:
    assert mask_name("John Smith") == "J*** *****"
    for org in ORGS[:20]:
        masked = mask_name(org.name)
        assert masked[0] == org.name[0] and set(masked[1:]) == {"*"} and len(masked) == len(org.name)


def test_world_people() -> None:
    for c in PEOPLE:
        if c.id_card:
            assert mask_id_card(c.id_card) == "*" * 14 + c.id_card[-4:]
        if c.mobile:
            assert mask_mobile(c.mobile) == f"{c.mobile[:3]}****{c.mobile[-4:]}"
            assert mask_phone(c.mobile) == mask_mobile(c.mobile)
        name = mask_name(c.name)
        assert len(name) == len(c.name) and name[0] == c.name[0] and "*" in name
        if len(c.name) >= 3:
            assert name[-1] == c.name[-1]
        if c.landline:
            digits = national(c.landline)
            assert mask_landline(digits) == f"{digits[:4]}****{digits[-4:]}"
            assert mask_phone(digits) == mask_landline(digits)
            assert mask_landline(c.landline) == f"{c.landline[:5]}****{c.landline[-4:]}"  # dash kept


def test_world_addresses() -> None:
    for a in WORLD.accounts:
        p = a.premises
        masked = mask_address(p.address)
        if p.compound is None:
            assert masked == f"{p.city}{p.district}{p.road.name}"
        else:
            assert masked == f"{p.city}{p.district}{p.road.name}{p.house_no}号{p.compound.name}"
            assert "幢" not in masked and "室" not in masked


def test_mask_value_lists_none_and_non_strings() -> None:
    assert mask_value(MaskKind.PHONE, ["13812345678", "057186123456"]) == ["138****5678", "0571****3456"]
    assert mask_value(MaskKind.NAME, None) is None
    assert mask_value(MaskKind.NAME, []) == []
    with pytest.raises(TypeError):
        mask_value(MaskKind.NAME, 42)


# --- properties ------------------------------------------------------------------------------

ID_CARDS = st.from_regex(r"[1-9]\d{16}[\dX]", fullmatch=True)
MOBILES = st.from_regex(r"1[3-9]\d{9}", fullmatch=True)
LANDLINES = st.from_regex(r"0(10|2\d|[3-9]\d{2})[2-9]\d{6,7}", fullmatch=True)
BANK_ACCOUNTS = st.from_regex(r"\d{12,19}", fullmatch=True)
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
NAMES = st.text(HAN, min_size=1, max_size=4) | st.text(min_size=1, max_size=30)
ADDRESSES = st.builds(
    lambda road, no, compound, b, u, r: f"江城市临江区{road}路{no}号{compound}{b}幢{u}单元{r}室",
    st.text(HAN, min_size=1, max_size=4),
    st.integers(1, 999),
    st.text(HAN, max_size=6),
    st.integers(1, 30),
    st.integers(1, 6),
    st.integers(101, 3308),
)


@given(ID_CARDS)
def test_masked_id_card_never_holds_17_digits_of_the_original(value: str) -> None:
    masked = mask_id_card(value)
    assert len(masked) == len(value) and masked.endswith(value[-4:])
    assert not any(value[i : i + 17] in masked for i in range(len(value) - 16))
    assert mask_id_card(masked) == masked


@given(MOBILES)
def test_masked_mobile_is_no_mobile(value: str) -> None:
    masked = mask_mobile(value)
    assert not re.search(r"1\d{10}", masked)
    assert len(masked) == len(value) and mask_mobile(masked) == masked == mask_phone(value)
    assert mask_phone(masked) == masked


@given(LANDLINES)
def test_masked_landline_keeps_area_code_and_last_four(value: str) -> None:
    masked = mask_landline(value)
    area = 3 if value.startswith(("01", "02")) else 4
    assert masked[:area] == value[:area] and masked[-4:] == value[-4:]
    assert set(masked[area:-4]) == {"*"} and len(masked) == len(value)
    assert mask_landline(masked) == masked == mask_phone(value) == mask_phone(masked)


@given(BANK_ACCOUNTS)
def test_masked_bank_account_shows_last_four(value: str) -> None:
    masked = mask_bank_account(value)
    assert masked == "*" * (len(value) - 4) + value[-4:]
    assert mask_bank_account(masked) == masked


@given(NAMES)
def test_masked_name_keeps_length_and_hides_something(value: str) -> None:
    masked = mask_name(value)
    assert len(masked) == len(value)
    assert mask_name(masked) == masked
    if any(ch not in " ·•.-" for ch in value):  # anything but separators
        assert "*" in masked


@given(ADDRESSES)
def test_masked_address_never_reaches_the_building(value: str) -> None:
    masked = mask_address(value)
    assert value.startswith(masked)
    assert not re.search(r"\d+(幢|单元|室)", masked)
    assert mask_address(masked) == masked


@given(st.text(max_size=40))
def test_every_rule_is_total_and_idempotent(value: str) -> None:
    for kind in MaskKind:
        once = mask_value(kind, value)
        assert isinstance(once, str)
        assert mask_value(kind, once) == once


@given(
    st.one_of(st.text(max_size=24), st.text(st.sampled_from("0123456789X张王·*- "), max_size=24)),
    st.integers(0, 5),
    st.integers(0, 5),
)
def test_the_sliced_star_is_the_walked_one(value: str, head: int, tail: int) -> None:
    """`star` slices a value without separators or stars; it must read as the walk does."""
    assert star(value, head, tail) == star_walked(value, head, tail)
