"""`CrmPort`: the CRM client over the simulator and `InMemoryCrm` answer alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from backends.crm.client import CrmClient
from domain.drafts import NoteDraft
from domain.enums import InteractionType, SensitiveCategory
from domain.keys import customer_no
from domain.ports import CrmPort
from infra.errors import NotFound
from infra.http.config import BackendConfig
from tests.conftest import Simulators
from tests.contracts import IMPLEMENTATIONS
from tests.fakes.crm import InMemoryCrm
from tests.support.world import seeded_world

UNKNOWN_CUSTOMER = "KH99999999"


@dataclass(frozen=True)
class Known:
    """A phone several customers share, their numbers, and a customer for notes (from the end of the
    world's list, away from the customers other modules write to)."""

    shared_phone: str
    customer_nos: tuple[str, ...]
    note_taker: str


@pytest.fixture(scope="module")
def known() -> Known:
    world = seeded_world()
    phone, owners = next((p, c) for p, c in sorted(world.customers_by_phone.items()) if len(c) > 1)
    busy = [c.customer_no for c in world.customers[:40]]
    numbers = tuple(customer_no(n) for n in dict.fromkeys([*owners, *busy]))
    return Known(phone, numbers, customer_no(world.customers[-5].customer_no))


def _client(sims: Simulators) -> CrmClient:
    return CrmClient(BackendConfig("crm", sims["crm"].url, timeout_s=5.0))


@pytest.fixture(scope="module")
async def recorded(sims: Simulators, known: Known) -> InMemoryCrm:
    """The fake's records, read once through the adapter: the same world, held in memory."""
    client = _client(sims)
    try:
        customers = await client.contacts_by_customer_no([*known.customer_nos, known.note_taker])
        histories = await client.interactions([c.crm_id for c in customers.values()], 50)
        register = await client.sensitive_customers()
    finally:
        await client.aclose()
    return InMemoryCrm(customers=customers, histories=histories, register=register)


@pytest.fixture(params=IMPLEMENTATIONS)
async def port(
    request: pytest.FixtureRequest, clean_sims: Simulators, recorded: InMemoryCrm
) -> AsyncIterator[CrmPort]:
    if request.param == "fake":
        yield InMemoryCrm(
            customers=dict(recorded.customers),
            histories={cid: list(rows) for cid, rows in recorded.histories.items()},
            register=list(recorded.register),
        )
        return
    client = _client(clean_sims)
    try:
        yield client
    finally:
        await client.aclose()


async def test_contacts_by_phone_are_the_customers_on_that_number(port: CrmPort, known: Known) -> None:
    found = await port.contacts_by_phone(known.shared_phone)
    assert len(found) >= 2
    assert all(known.shared_phone in c.mobiles + c.landlines for c in found)
    assert await port.contacts_by_phone("10000000000") == []


async def test_contacts_are_keyed_by_customer_number_and_unknown_ones_are_absent(
    port: CrmPort, known: Known
) -> None:
    found = await port.contacts_by_customer_no([*known.customer_nos, UNKNOWN_CUSTOMER])
    assert set(found) == set(known.customer_nos)
    assert all(c.customer_no == no for no, c in found.items())


@pytest.mark.parametrize("size", [0, 101])
async def test_a_batch_of_none_or_too_many_is_refused(port: CrmPort, size: int) -> None:
    assert port.MAX_BATCH == 100
    with pytest.raises(ValueError):
        await port.contacts_by_customer_no([customer_no(n + 1) for n in range(size)])


async def test_interactions_are_bounded_newest_first_with_every_contact_a_key(
    port: CrmPort, known: Known
) -> None:
    contacts = await port.contacts_by_customer_no(list(known.customer_nos))
    ids = [c.crm_id for c in contacts.values()]
    every = await port.interactions(ids, 50)
    latest = await port.interactions(ids, 2)
    assert set(every) == set(latest) == set(ids)
    assert any(len(rows) > 2 for rows in every.values())
    for cid in ids:
        assert latest[cid] == every[cid][:2]
        assert [i.at for i in every[cid]] == sorted((i.at for i in every[cid]), reverse=True)


async def test_a_note_added_is_found_again_by_its_reference(port: CrmPort, known: Known) -> None:
    contact = (await port.contacts_by_customer_no([known.note_taker]))[known.note_taker]
    ref = f"TG{uuid.uuid4().hex[:30].upper()}"
    assert await port.note_by_reference(contact.crm_id, ref) is None
    note = await port.add_note(NoteDraft(contact.crm_id, "客户来电询问水费, 已解释", "agent-7", ref))
    assert (note.kind, note.summary, note.agent_id) == (
        InteractionType.NOTE,
        "客户来电询问水费, 已解释",
        "agent-7",
    )
    assert await port.note_by_reference(contact.crm_id, ref) == note
    assert (await port.interactions([contact.crm_id], 1))[contact.crm_id] == [note]


async def test_a_note_for_an_unknown_contact_is_not_found(port: CrmPort) -> None:
    with pytest.raises(NotFound):
        await port.add_note(NoteDraft("no-such-contact", "x", "agent-7", "TG1"))


async def test_the_sensitive_register_names_each_need_at_one_of_the_customers_accounts(port: CrmPort) -> None:
    world = seeded_world()
    register = await port.sensitive_customers()
    assert len(register) > 50  # more than one page of the CRM's register
    assert len({e.register_id for e in register}) == len(register)
    assert {e.category for e in register} == set(SensitiveCategory) - {SensitiveCategory.UNKNOWN}
    for entry in register:
        owner = world.account_by_no[entry.account_no].customer_no
        assert customer_no(owner) == entry.customer_no and entry.note
    lonely = {customer_no(c.customer_no) for c in world.customers if c.customer_no % 211 == 0}
    assert {e.customer_no for e in register if e.category is SensitiveCategory.ELDERLY_ALONE} <= lonely
