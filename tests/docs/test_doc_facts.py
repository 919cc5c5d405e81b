"""Facts the docs state that the code also states: the two must not drift apart.

The roles table in docs/security.md is the scopes each role holds in gateway/auth/roles.yaml; every
public error code (`services.errors.ErrorCode`, the one vocabulary) is named in docs/api.md.
"""

from __future__ import annotations

import re

from gateway.auth.roles import load_roles
from services.call_machine import Refusal as CallRefusal
from services.errors import ErrorCode
from tests.support.processes import ROOT


def test_the_roles_table_lists_each_roles_scopes() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    documented = {
        m[1]: set(m[2].split()) for m in re.finditer(r"^\| `(\w+)` \| `([a-z: ]+)` \|", text, flags=re.M)
    }
    assert documented == {role.name: set(role.scopes) for role in load_roles().values()}


def test_every_error_code_is_documented() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    codes = {code.value for code in ErrorCode}
    assert sorted(code for code in codes if f"`{code}`" not in text) == []


def test_the_call_machines_refusals_are_public_error_codes() -> None:
    assert {refusal.value for refusal in CallRefusal} <= {code.value for code in ErrorCode}


def test_the_router_recipes_excerpts_are_in_the_files_the_tests_run() -> None:
    """docs/router.md shows the routers' configurations as excerpts: each `js` block names its file
    on its first line, and the rest must still be in that file, so the recipe is what runs."""
    text = (ROOT / "docs" / "router.md").read_text(encoding="utf-8")
    excerpts = re.findall(r"^```js\n// (\S+) \(excerpt\)\n(.*?)^```$", text, flags=re.M | re.S)
    assert [path for path, _ in excerpts] == [
        "deploy/router/gateway.config.mjs",
        "tests/federation/gateway.mjs",
    ]
    for path, body in excerpts:
        assert body in (ROOT / path).read_text(encoding="utf-8"), path
