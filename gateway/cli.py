"""`tidegate`: run the BFF, the simulators and the demo from one command.

The simulators (and Faker, which builds their world) ship in a checkout, not in the wheel: an
installed BFF offers `serve`, `token`, `cti`, `sdl` and `pq`, and `simulate` and `demo` appear only
where the simulators can be imported. This module imports them lazily for that reason alone.

Exit codes: 0 done; 1 a check failed or the server answered no (`pq build --check`, `cti`); 2 bad
arguments or settings, each told in one line on stderr (`tidegate: TIDEGATE_X=...: what is wrong; e.g.
a good value`), before anything starts.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from datetime import date
from typing import TYPE_CHECKING

from gateway.demo_secrets import DEMO_CTI_SECRET

if TYPE_CHECKING:
    from gateway.settings import Settings

CTI_EVENTS = {
    "ringing": "CALL_RINGING",
    "answered": "CALL_ANSWERED",
    "ended": "CALL_ENDED",
    "transferred": "CALL_TRANSFERRED",  # --agent-id: the agent the call goes to
    "conference-joined": "CALL_CONFERENCE_JOINED",  # --agent-id: the agent who joins
}


def _version() -> str:
    try:
        return importlib.metadata.version("tidegate")
    except importlib.metadata.PackageNotFoundError:  # a checkout never installed
        return "unknown (not installed)"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _token_ttl(text: str) -> int:
    from gateway.auth.clients import MAX_TOKEN_TTL_S

    value = _positive_int(text)
    if value > MAX_TOKEN_TTL_S:
        raise argparse.ArgumentTypeError(f"at most {MAX_TOKEN_TTL_S} s (an hour), got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def _add_world_args(p: argparse.ArgumentParser, *, seed: int, customers: int) -> None:
    p.add_argument("--seed", type=int, default=seed, help="world seed (same seed, same data)")
    p.add_argument("--customers", type=_positive_int, default=customers, help="customers in the district")
    p.add_argument(
        "--as-of", type=_day, default=None, help="the world's 'today' (default: today in Asia/Shanghai)"
    )
    p.add_argument(
        "--latency-scale", type=float, default=1.0, help="multiply sampled latencies (0 = instant)"
    )


def _add_checkout_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`simulate` and `demo`, offered only where the simulators are importable (a checkout with the
    `simulators` extra), so that an installed BFF never needs Faker."""
    try:
        from simulators.kit.options import SERVICES
        from simulators.world import DEFAULT_CUSTOMERS, DEFAULT_SEED
    except ImportError:
        return

    sim = sub.add_parser("simulate", help="serve one back-office simulator")
    sim.add_argument("service", choices=SERVICES)
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument(
        "--port", type=int, default=None, help="default: billing 8101, crm 8102, gis 8103, workorders 8104"
    )
    _add_world_args(sim, seed=DEFAULT_SEED, customers=DEFAULT_CUSTOMERS)
    sim.add_argument("--error-rate", type=_rate, default=0.0)
    sim.add_argument("--timeout-rate", type=_rate, default=0.0)
    sim.add_argument("--hang-ms", type=int, default=30_000, help="how long an injected timeout hangs")
    sim.add_argument(
        "--pool-size",
        type=_positive_int,
        default=None,
        help="concurrent requests served (billing default 20; others unbounded)",
    )
    sim.add_argument(
        "--pool-timeout-ms", type=int, default=1_000, help="queue wait before a request is refused"
    )
    sim.add_argument(
        "--no-settlement-window",
        action="store_true",
        help="billing: accept writes during the nightly 23:30-00:30 settlement (日结)",
    )
    sim.add_argument("--webhook-url", default=None, help="workorders: POST status changes here")
    sim.add_argument(
        "--webhook-secret",
        action="append",
        default=[],
        help="workorders: a whsec_... signing secret (repeat it to sign with several: rotation)",
    )
    sim.add_argument(
        "--crew-interval-ms", type=int, default=0, help="workorders: the field crew moves an order this often"
    )
    sim.add_argument("--late-fee-rate", type=float, default=0.003, help="billing: daily late-fee rate")
    sim.add_argument(
        "--late-fee-cap", type=float, default=1.0, help="billing: late fees capped at this x principal"
    )

    demo = sub.add_parser("demo", help="start the four simulators and the BFF and print their URLs")
    _add_world_args(demo, seed=DEFAULT_SEED, customers=DEFAULT_CUSTOMERS)
    demo.add_argument("--port-offset", type=int, default=0, help="add this to every default port")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tidegate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    sdl = sub.add_parser("sdl", help="print the GraphQL schema (SDL); --write updates schema/schema.graphql")
    sdl.add_argument("--write", action="store_true")

    pq = sub.add_parser(
        "pq", help="persisted queries: `pq build` writes gql/manifest.json from gql/*.graphql"
    )
    pq.add_argument("action", choices=("build",))
    pq.add_argument("--check", action="store_true", help="exit 1 if the committed manifest is stale")

    cti = sub.add_parser("cti", help="send a signed call event to a BFF, as the CTI would (demo, drills)")
    cti.add_argument("event", choices=tuple(CTI_EVENTS))
    cti.add_argument("--agent-id", required=True)
    cti.add_argument("--call-id", required=True)
    cti.add_argument(
        "--caller",
        default=None,
        help="the calling number, any format of a mainland mobile or landline (required for ringing)",
    )
    cti.add_argument("--url", default="http://127.0.0.1:8000", help="the BFF")
    cti.add_argument("--secret", default=None, help="default: TIDEGATE_CTI_SECRETS' first, or the demo's")
    cti.add_argument("--event-id", default=None, help="default: a fresh UUID (each id is good once)")

    serve = sub.add_parser("serve", help="serve the GraphQL BFF (settings from TIDEGATE_* variables)")
    serve.add_argument("--host", default=None, help="default: TIDEGATE_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: TIDEGATE_PORT or 8000")
    serve.add_argument(
        "--workers", type=int, default=None, help="processes on the port, each a replica (needs Redis past 1)"
    )

    token = sub.add_parser(
        "token",
        help="print an access token signed with the local issuer's key (TIDEGATE_LOCAL_ISSUER_KEY_PATH)",
    )
    token.add_argument("--role", default="agent", help="a role in gateway/auth/roles.yaml (default: agent)")
    token.add_argument("--agent-id", default=None, help="the agent the token acts for (agent, softphone)")
    token.add_argument(
        "--client-id", default=None, help="default: softphone for the softphone role, else workbench"
    )
    token.add_argument(
        "--ttl-s", type=_token_ttl, default=None, help="1..3600, default: TIDEGATE_TOKEN_TTL_S"
    )
    token.add_argument("--scope", default=None, help="space-separated scopes (default: the role's)")

    _add_checkout_commands(sub)
    return parser


def _simulate(args: argparse.Namespace) -> int:
    from simulators.kit.faults import FaultConfig
    from simulators.kit.options import DEFAULT_PORTS, SimOptions
    from simulators.serve import run

    pool = args.pool_size if args.pool_size is not None else (20 if args.service == "billing" else None)
    faults = FaultConfig(
        latency_scale=args.latency_scale,
        error_rate=args.error_rate,
        timeout_rate=args.timeout_rate,
        hang_ms=args.hang_ms,
        pool_size=pool,
        pool_timeout_ms=args.pool_timeout_ms,
        settlement_window=not args.no_settlement_window,
    )
    run(
        SimOptions(
            service=args.service,
            host=args.host,
            port=args.port if args.port is not None else DEFAULT_PORTS[args.service],
            seed=args.seed,
            customers=args.customers,
            as_of=args.as_of,
            faults=faults,
            late_fee_daily_rate=args.late_fee_rate,
            late_fee_cap_ratio=args.late_fee_cap,
            webhook_url=args.webhook_url,
            webhook_secrets=tuple(args.webhook_secret),
            crew_interval_ms=args.crew_interval_ms,
        )
    )
    return 0


def _settings(
    overrides: dict[str, object] | None = None, *, flags: dict[str, str] | None = None, warn: bool = True
) -> Settings:
    """The settings from the environment (and `overrides`), or `SystemExit(2)` after one line per bad
    value; with `warn`, a warning line first for each `TIDEGATE_*` variable that is no setting."""
    from gateway.settings.problems import BadSettings, load_settings
    from gateway.settings.unknown import unknown_variable_warnings

    if warn:
        for line in unknown_variable_warnings(os.environ):
            print(line, file=sys.stderr)
    try:
        return load_settings(overrides, flags=flags)
    except BadSettings as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import StartRefused, create_app, start_refusal
    from gateway.auth import AuthConfigError
    from gateway.http.serving import bind_problem, run, run_workers
    from gateway.observability.logging import configure_logging
    from gateway.persisted.manifest import ManifestError

    overrides = {
        name: value for name in ("host", "port", "workers") if (value := getattr(args, name)) is not None
    }
    settings = _settings(overrides, flags={name: f"--{name}" for name in overrides})
    # Before logging is configured and anything is built: one line each, not a log line and a traceback.
    refusal = start_refusal(settings) or bind_problem(settings.serving.host, settings.serving.port)
    if refusal is not None:
        print(f"tidegate: {refusal}", file=sys.stderr)
        return 2
    configure_logging(settings.serving.log_level)
    try:
        # With workers, this build only checks the settings (and makes the local issuer's key file
        # once, before the workers race to): each worker builds its own app.
        app = create_app(settings)
    except (AuthConfigError, ManifestError, StartRefused, OSError) as exc:  # no way to check tokens;
        print(f"tidegate: {exc}", file=sys.stderr)  # a broken safelist; a key file it cannot write
        return 2
    if settings.serving.workers > 1:
        del app
        run_workers(settings, {f"TIDEGATE_{name.upper()}": str(value) for name, value in overrides.items()})
        return 0
    run(app, settings)
    return 0


def _token(args: argparse.Namespace) -> int:
    from gateway.auth import local_issuer
    from gateway.auth.clients import DEMO_SIGN_IN_CLIENT

    settings = _settings()
    try:
        issuer = local_issuer(settings)
        client_id = args.client_id or ("softphone" if args.role == "softphone" else DEMO_SIGN_IN_CLIENT)
        token = issuer.mint(
            client_id=client_id, role=args.role, agent_id=args.agent_id, scope=args.scope, ttl_s=args.ttl_s
        )
    except (ValueError, OSError) as exc:  # roles.yaml, key file or arguments
        print(f"tidegate token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _cti_problem(args: argparse.Namespace) -> str | None:
    """What the CTI endpoint would refuse or quietly drop in these arguments (None: nothing): it
    answers 204 to a ringing call whose number it cannot read, and the screen pop then finds nobody."""
    from domain.phones import national
    from gateway.live.cti import EVENT_ID_REQUIRED, BadEvent, parse, signed_event

    if args.event == "ringing" and not args.caller:
        return (
            "--caller is required for ringing (the screen pop looks the caller up by it);"
            " e.g. --caller 13812345678"
        )
    if args.caller is not None and national(args.caller) is None:
        return (
            f"--caller {args.caller!r}: not a mainland mobile or landline number;"
            " e.g. --caller 13812345678 or --caller '(0571) 8612-3456'"
        )
    if not args.url.startswith(("http://", "https://")):
        return f"--url {args.url!r}: expected an http:// or https:// URL; e.g. --url http://127.0.0.1:8000"
    body, _ = signed_event(
        "-", CTI_EVENTS[args.event], args.agent_id, args.call_id, args.caller, event_id=args.event_id
    )
    try:
        parse(body)  # the endpoint's own check: event id, agent and call ids
    except BadEvent as exc:
        if exc.code == EVENT_ID_REQUIRED:
            return (
                f"--event-id {args.event_id!r}: 1-128 printable ASCII characters; e.g. --event-id $(uuidgen)"
            )
        return "--agent-id and --call-id must not be empty; e.g. --agent-id A1001 --call-id demo-1"
    return None


def _cti(args: argparse.Namespace) -> int:
    import httpx

    from gateway.live.cti import signed_event

    if (problem := _cti_problem(args)) is not None:
        print(f"tidegate cti: {problem}", file=sys.stderr)
        return 2
    secret = args.secret or next(iter(_settings(warn=False).live.cti_secret_list()), DEMO_CTI_SECRET)
    event = CTI_EVENTS[args.event]
    # Every event has its own id (single use): a fresh one unless --event-id names one.
    body, headers = signed_event(
        secret, event, args.agent_id, args.call_id, args.caller, event_id=args.event_id
    )
    try:
        response = httpx.post(f"{args.url.rstrip('/')}/cti/events", content=body, headers=headers)
    except httpx.HTTPError as exc:
        print(f"tidegate cti: {exc}", file=sys.stderr)
        return 1
    print(f"{event} -> HTTP {response.status_code}")
    if response.status_code != 204:
        print(response.text, file=sys.stderr)  # the coded refusal: replayed, call ended, ...
    return 0 if response.status_code == 204 else 1


def _sdl(args: argparse.Namespace) -> int:
    from schema.sdl import SDL_PATH, printed_sdl

    text = printed_sdl()
    if args.write:
        SDL_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SDL_PATH}")
    else:
        sys.stdout.write(text)
    return 0


def _pq(args: argparse.Namespace) -> int:
    from gateway.persisted.manifest import MANIFEST_PATH, ManifestError, build_manifest, manifest_text

    try:
        text = manifest_text(build_manifest())
    except ManifestError as exc:
        print(f"tidegate pq build: {exc}", file=sys.stderr)
        return 2
    current = MANIFEST_PATH.read_text(encoding="utf-8") if MANIFEST_PATH.exists() else None
    if args.check:
        if current != text:
            print(f"{MANIFEST_PATH} is stale: run `tidegate pq build`", file=sys.stderr)
            return 1
        return 0
    MANIFEST_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MANIFEST_PATH}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return run_demo(
        seed=args.seed,
        customers=args.customers,
        as_of=args.as_of,
        latency_scale=args.latency_scale,
        port_offset=args.port_offset,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "cti":
        return _cti(args)
    if args.command == "sdl":
        return _sdl(args)
    if args.command == "pq":
        return _pq(args)
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        return _demo(args)
    if args.command == "token":
        return _token(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
