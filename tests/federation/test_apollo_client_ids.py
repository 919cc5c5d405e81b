"""A real Apollo Client's persisted-query ids are all in gql/manifest.json.

Apollo Client adds `__typename` to every selection set before hashing, so a manifest of the written
documents alone refuses every real client; this runs the real library (tests/federation's lock) over
gql/*.graphql and checks each id it would send is listed under the operation's name.
"""

from __future__ import annotations

import subprocess

import orjson

from gateway.persisted.manifest import load_manifest
from gql import GQL_DIR
from tests.federation.conftest import HERE, node_script


def test_browser_client_apollo_ids_are_in_the_manifest() -> None:
    out = subprocess.run(
        node_script("apollo_client_ids.mjs", str(GQL_DIR)), cwd=HERE, capture_output=True, check=True
    ).stdout
    sent: dict[str, str] = orjson.loads(out)
    listed = {(op.name, op.id) for op in load_manifest()}
    assert set(sent) == {op.name for op in load_manifest()}
    assert {(name, sha) for name, sha in sent.items()} <= listed
