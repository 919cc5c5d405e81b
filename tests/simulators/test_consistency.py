"""The four systems agree on the shared keys, each stored its own way (real processes, real HTTP)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.processes import SimProcess
from tests.support.soap import call, find, hh, parse, text
from tests.support.world import seeded_world

FS = "/arcgis/rest/services/Water/FeatureServer"


def _gis(url: str, layer: int, **params: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{url}{FS}/{layer}/query", params={"f": "json", **params}).json()
    assert "error" not in body, body
    return body


def test_every_billing_account_has_a_crm_contact_and_a_service_connection_in_its_grid(
    sims: dict[str, SimProcess],
) -> None:
    world = seeded_world()
    sample = [a.account_no for a in world.accounts[::11]][:100]  # spread over the district
    billing, crm, gis = sims["billing"].url, sims["crm"].url, sims["gis"].url
    grids = {
        f["attributes"]["GRID_CODE"]: f
        for f in _gis(gis, 3, where="1=1", outFields="GRID_CODE,WORKER_ID")["features"]
    }
    wo_grids = {g["grid_code"]: g for g in httpx.get(f"{sims['workorders'].url}/wo/api/grids").json()["list"]}
    for start in range(0, len(sample), 50):
        batch = sample[start : start + 50]
        root = parse(call(billing, "GetAccounts", hh(*batch)))
        rows = {text(row, "HH"): row for row in find(root, "HHXX")}
        assert sorted(rows) == sorted(batch)
        # GIS keeps the 户号 without its leading zeros.
        keys = ",".join(f"'{int(n)}'" for n in batch)
        features = _gis(gis, 2, where=f"ACCT_NO IN ({keys})", outFields="ACCT_NO,GRID_CODE,MAIN_ID")[
            "features"
        ]
        by_acct = {f["attributes"]["ACCT_NO"]: f for f in features}
        assert len(by_acct) == len(batch)
        for account_no, row in rows.items():
            customer_no = int(text(row, "KHBH").removeprefix("KH"))
            contacts = httpx.get(f"{crm}/crm/api/v2/contacts", params={"accountNo": account_no}).json()[
                "items"
            ]
            assert [c["customerNo"] for c in contacts] == [customer_no]
            assert int(account_no) in contacts[0]["accounts"]
            feature = by_acct[str(int(account_no))]
            point = feature["geometry"]
            containing = _gis(
                gis,
                3,
                geometry=json.dumps(point),
                geometryType="esriGeometryPoint",
                spatialRel="esriSpatialRelIntersects",
                outFields="GRID_CODE",
                returnGeometry="false",
            )["features"]
            codes = [f["attributes"]["GRID_CODE"] for f in containing]
            assert codes == [feature["attributes"]["GRID_CODE"]]
            assert codes[0] in grids and codes[0] in wo_grids
            assert grids[codes[0]]["attributes"]["WORKER_ID"] == wo_grids[codes[0]]["worker_id"]


def test_a_shared_phone_resolves_to_the_same_customers_in_billing_and_crm(
    sims: dict[str, SimProcess],
) -> None:
    world = seeded_world()
    digits = next(d for d, owners in world.customers_by_phone.items() if len(owners) > 1 and len(d) == 11)
    root = parse(call(sims["billing"].url, "QueryAccountsByPhone", f"<ys:DHHM>{digits}</ys:DHHM>"))
    billing_customers = {int(text(r, "KHBH").removeprefix("KH")) for r in find(root, "HHXX")}
    items = httpx.get(f"{sims['crm'].url}/crm/api/v2/contacts", params={"phone": digits}).json()["items"]
    assert billing_customers == {c["customerNo"] for c in items}
    assert len(billing_customers) > 1
