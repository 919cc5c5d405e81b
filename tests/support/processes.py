"""Start real simulator processes for tests: own uvicorn each, on a free 127.0.0.1 port."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simulators.launch import die_with_parent, free_port, spawn_simulator, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
TEST_SEED = 4242
TEST_CUSTOMERS = 2_000
TEST_AS_OF = "2026-11-26"
CTI_SECRET = "cti-test-secret"


@dataclass
class SimProcess:
    service: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        stop([self.proc])


def start_simulator(
    service: str,
    *,
    seed: int = TEST_SEED,
    customers: int = TEST_CUSTOMERS,
    as_of: str = TEST_AS_OF,
    latency_scale: float = 0.0,
    extra: list[str] | None = None,
    ready_timeout_s: float = 60.0,
) -> SimProcess:
    port = free_port()
    args = [
        "--seed",
        str(seed),
        "--customers",
        str(customers),
        "--as-of",
        as_of,
        "--latency-scale",
        str(latency_scale),
        *(extra or []),
    ]
    log_path = Path(tempfile.mkstemp(prefix=f"sim-{service}-", suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = spawn_simulator(service, port, args, cwd=ROOT, output=log)
    sim = SimProcess(service, port, proc, log_path, args)
    if not wait_healthy(sim.url, proc, ready_timeout_s):
        sim.stop()
        raise RuntimeError(f"{service} simulator did not start (exit {proc.returncode}):\n{sim.log()}")
    return sim


@dataclass
class BffProcess:
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    issuer_key_path: Path  # the local issuer's key file: the test mints tokens with it too
    scratch_dir: Path | None = None  # ours to delete on stop

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def token(self, role: str = "supervisor", agent_id: str | None = None) -> str:
        """A token the BFF accepts, as `tidegate token` would mint it (default: reads any customer)."""
        from gateway.auth import local_issuer
        from gateway.settings import Settings

        issuer = local_issuer(Settings(local_issuer=True, local_issuer_key_path=self.issuer_key_path))
        if agent_id is None and issuer.roles[role].needs_agent_id:
            agent_id = "A1001"
        return issuer.mint(client_id="workbench", role=role, agent_id=agent_id)

    def auth(self, role: str = "supervisor", agent_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, agent_id)}"}

    @property
    def audit_path(self) -> Path:
        assert self.scratch_dir is not None
        return self.scratch_dir / "audit.jsonl"

    def cti(
        self,
        event: str,
        agent_id: str,
        call_id: str,
        caller: str | None = None,
        secret: str = CTI_SECRET,
        timestamp: int | None = None,
        event_id: str | None = None,
    ) -> httpx.Response:
        """A call event as the CTI sends it: JSON with a fresh `eventId`, signed over `timestamp.body`."""
        from gateway.live.cti import signed_event

        body, headers = signed_event(
            secret, event, agent_id, call_id, caller, event_id=event_id, timestamp=timestamp
        )
        return self.post_cti(body, headers)

    def post_cti(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """Exactly these bytes and headers to /cti/events (a replay sends a captured event again)."""
        return httpx.post(f"{self.url}/cti/events", content=body, headers=headers)

    def stop(self) -> None:
        stop([self.proc])
        if self.scratch_dir is not None:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)


def start_bff(sims: Mapping[str, SimProcess], env: Mapping[str, str] | None = None) -> BffProcess:
    """`tidegate serve` as its own process, pointed at the given simulators through TIDEGATE_*,
    with its local token issuer on and a key file of its own (`env` may override both)."""
    port = free_port()
    urls = {f"TIDEGATE_{name.upper()}_URL": sim.url for name, sim in sims.items()}
    scratch = Path(tempfile.mkdtemp(prefix="bff-issuer-"))
    bff_env = {
        "TIDEGATE_LOCAL_ISSUER": "true",
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(scratch / "issuer-key.pem"),
        "TIDEGATE_AUDIT_PATH": str(scratch / "audit.jsonl"),
        # A shared CI machine can be slower than the 300 ms screen-pop budget; tests that are about
        # deadlines set their own.
        "TIDEGATE_BUDGET_CRITICAL_MS": "10000",
        "TIDEGATE_CTI_SECRETS": CTI_SECRET,
        "TIDEGATE_DRAIN_DELAY_S": "0",  # stop at once; the drain test sets its own
    }
    bff_env |= env or {}
    log_path = Path(tempfile.mkstemp(prefix="bff-", suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **urls, **bff_env},
            preexec_fn=die_with_parent,
        )
    bff = BffProcess(port, proc, log_path, Path(bff_env["TIDEGATE_LOCAL_ISSUER_KEY_PATH"]), scratch)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{bff.url}/healthz", timeout=1.0).status_code == 200:
                return bff
        time.sleep(0.1)
    bff.stop()
    raise RuntimeError(f"the BFF did not start (exit {proc.returncode}):\n{bff.log()}")
