"""The ``atrium`` command: serve, demo, ingest, token, keys, worker, search, audit, db."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from api.settings import Settings

if TYPE_CHECKING:
    from governance.signing_keys import KeyRing

console = Console(stderr=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    handler = args.handler
    try:
        result: int = handler(settings, args)
    except KeyboardInterrupt:
        # Ctrl-C ends `serve` and `demo`; the embedded Postgres has stopped by the time the
        # interrupt reaches here, so there is nothing to report but the conventional status.
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atrium", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API")
    _server_options(serve)
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser("demo", help="generate a realistic demo catalog, then serve it")
    demo.add_argument("--datasets", type=int, default=200, help="datasets to generate")
    demo.add_argument("--files-per-dataset", type=int, default=50, help="files per dataset")
    demo.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
    demo.add_argument("--no-serve", action="store_true", help="load the catalog and exit")
    _server_options(demo)
    demo.set_defaults(handler=_demo)

    ingest = commands.add_parser("ingest", help="load datasets and files from a file")
    ingest.add_argument("file", type=Path, help="JSON Lines, CSV, or a Gen3 manifest (TSV)")
    ingest.add_argument(
        "--format", choices=["jsonl", "csv", "gen3"], help="default: from the file extension"
    )
    ingest.add_argument("--dataset", help="accession that receives the files of a Gen3 manifest")
    ingest.add_argument(
        "--gen3-ids",
        choices=["id", "alias"],
        default="id",
        help="keep Gen3 GUIDs as DRS ids (default) or as aliases of minted ids",
    )
    ingest.set_defaults(handler=_ingest)

    token = commands.add_parser("token", help="mint a token from the built-in issuer")
    token.add_argument("--sub", required=True, help="subject (user name)")
    token.add_argument(
        "--role",
        action="append",
        default=[],
        help="admin, steward:ORG, funder_auditor:ORG, committee_member:DAC, committee_chair:DAC;"
        " repeatable; the roles are stored in Postgres",
    )
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(handler=_token)

    search = commands.add_parser("search", help="maintain the search index")
    search_commands = search.add_subparsers(required=True, metavar="ACTION")
    reindex = search_commands.add_parser(
        "reindex", help="rebuild the index from Postgres and switch searches to it atomically"
    )
    reindex.set_defaults(handler=_search_reindex)
    check = search_commands.add_parser("check", help="compare Postgres with the index")
    check.set_defaults(handler=_search_check)
    status = search_commands.add_parser("status", help="index lag: pending and parked changes")
    status.set_defaults(handler=_search_status)
    retry = search_commands.add_parser("retry-parked", help="give parked changes another try")
    retry.set_defaults(handler=_search_retry_parked)

    worker = commands.add_parser(
        "worker", help="deliver notifications and run grant expiry jobs until stopped"
    )
    worker.add_argument("--once", action="store_true", help="drain everything due, then exit")
    worker.set_defaults(handler=_worker)

    keys = commands.add_parser("keys", help="list, rotate or retire Atrium's signing keys")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    key_commands.add_parser("list", help="every key with its state").set_defaults(
        handler=_keys_list
    )
    key_commands.add_parser(
        "rotate", help="make a new active key; the previous one stays published"
    ).set_defaults(handler=_keys_rotate)
    retire = key_commands.add_parser(
        "retire", help="drop a published key from the JWKS: what it signed stops verifying"
    )
    retire.add_argument("kid", help="key id (see `atrium keys list`)")
    retire.set_defaults(handler=_keys_retire)

    db = commands.add_parser("db", help="migrate the database schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="migrate to a revision (default: head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=_db_upgrade)
    down = db_commands.add_parser("downgrade", help="migrate back to a revision (e.g. -1, base)")
    down.add_argument("revision")
    down.set_defaults(handler=_db_downgrade)

    audit = commands.add_parser("audit", help="seal and verify the tamper-evident audit chain")
    audit_commands = audit.add_subparsers(required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="seal committed events, then recompute the whole chain (exit 1 if broken)"
    )
    verify.add_argument("--no-seal", action="store_true", help="verify only what is already sealed")
    verify.set_defaults(handler=_audit_verify)
    seal = audit_commands.add_parser("seal", help="chain committed events that are not yet")
    seal.set_defaults(handler=_audit_seal)
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="bind address (default: ATRIUM_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: ATRIUM_PORT or 8000)")
    parser.add_argument("--certfile", type=Path, help="TLS certificate (PEM) to serve HTTPS")
    parser.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    parser.add_argument(
        "--workers", type=int, help="server processes (default: ATRIUM_WORKERS or 1)"
    )


def _with_server_options(settings: Settings, args: argparse.Namespace) -> Settings:
    changes: dict[str, object] = {}
    if args.host:
        changes["host"] = args.host
    if args.port:
        changes["port"] = args.port
    if args.workers is not None:
        if args.workers < 1:
            raise SystemExit("--workers must be at least 1")
        changes["workers"] = args.workers
    if args.certfile and not settings.public_base_url:
        changes["public_base_url"] = (
            f"https://{args.host or settings.host}:{args.port or settings.port}"
        )
    return settings.model_copy(update=changes)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from api.server import serve

    settings = _with_server_options(settings, args)
    return serve(settings, certfile=args.certfile, keyfile=args.keyfile)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from api.database import open_engine
    from api.demo import load_demo, print_demo_users
    from api.server import serve

    settings = _with_server_options(settings, args)
    with open_engine(settings) as engine:
        load_demo(
            engine,
            settings,
            datasets=args.datasets,
            files_per_dataset=args.files_per_dataset,
            seed=args.seed,
            console=console,
        )
        print_demo_users(settings, console=Console())
        if args.no_serve:
            return 0
        return serve(settings, certfile=args.certfile, keyfile=args.keyfile, engine=engine)


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from api.database import open_engine
    from catalog.ingest.runner import IngestFailed, ingest_path

    with open_engine(settings) as engine:
        try:
            report = ingest_path(
                engine,
                args.file,
                fmt=args.format,
                dataset=args.dataset,
                gen3_ids=args.gen3_ids,
                console=console,
            )
        except IngestFailed as failure:
            for problem in failure.problems[:200]:
                console.print(f"[red]{args.file}:{problem.line}: {problem.message}[/red]")
            if len(failure.problems) > 200:
                console.print(f"... and {len(failure.problems) - 200} more problems")
            console.print("[red]Nothing was written.[/red]")
            return 1
    console.print(report.summary())
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from api.database import open_engine
    from api.identity import assign_cli_roles, mint_token

    with open_engine(settings) as engine:
        try:
            assign_cli_roles(engine, settings, subject=args.sub, roles=args.role)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            return 2
    print(mint_token(settings, subject=args.sub, ttl_seconds=args.ttl))
    return 0


def _search_reindex(settings: Settings, _args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from api.database import open_engine, session_factory
    from api.search_backend import build_search_backend
    from search.indexing import reindex

    backend = build_search_backend(settings)
    with open_engine(settings) as engine, Progress(console=console) as progress:
        task = progress.add_task(f"reindexing into {backend.name}", total=None)
        count = reindex(
            session_factory(engine),
            backend,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(f"indexed {count} datasets")
    return 0


def _search_check(settings: Settings, _args: argparse.Namespace) -> int:
    from api.database import open_engine, session_factory
    from api.search_backend import build_search_backend
    from search.indexing import check

    with open_engine(settings) as engine:
        report = check(session_factory(engine), build_search_backend(settings))
    console.print(f"checked {report.checked} datasets")
    for label, accessions in (
        ("missing from the index", report.missing),
        ("older in the index", report.stale),
        ("different in the index", report.different),
        ("in the index but not in Postgres", report.extra),
    ):
        if accessions:
            console.print(f"[red]{len(accessions)} {label}:[/red] {', '.join(accessions[:20])}")
    if report.consistent:
        console.print("[green]the index equals Postgres[/green]")
        return 0
    return 1


def _search_status(settings: Settings, _args: argparse.Namespace) -> int:
    from api.database import open_engine, session_factory
    from search import outbox

    with open_engine(settings) as engine, session_factory(engine)() as session:
        state = outbox.status(session)
    print(f"pending={state.pending} parked={state.parked} lag_seconds={state.lag_seconds:.1f}")
    return 0


def _search_retry_parked(settings: Settings, _args: argparse.Namespace) -> int:
    from api.database import open_engine, session_factory
    from search import outbox

    with open_engine(settings) as engine, session_factory(engine).begin() as session:
        console.print(f"{outbox.retry_parked(session)} parked changes queued again")
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from api import worker
    from api.database import open_engine

    with open_engine(settings, pool_size=2) as engine:
        return worker.run(settings, engine, once=args.once)


def _key_ring(settings: Settings) -> KeyRing:
    from api.auth.issuer import key_ring_dir
    from governance.signing_keys import KeyRing

    return KeyRing.open(key_ring_dir(settings.data_dir))


def _keys_list(settings: Settings, _args: argparse.Namespace) -> int:
    for entry in _key_ring(settings).entries:
        print(f"{entry.kid}\t{entry.state.value}\t{entry.created_at}")
    return 0


def _keys_rotate(settings: Settings, _args: argparse.Namespace) -> int:
    kid = _key_ring(settings).rotate()
    console.print(f"new active key {kid}; the previous key stays published until retired")
    print(kid)
    return 0


def _keys_retire(settings: Settings, args: argparse.Namespace) -> int:
    from catalog.errors import AtriumError

    try:
        _key_ring(settings).retire(args.kid)
    except AtriumError as exc:
        console.print(f"[red]{exc.message}[/red]")
        return 1
    console.print(f"key {args.kid} retired: it is no longer published")
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from api.database import open_engine
    from catalog import migrate

    with open_engine(settings, prepared=False) as engine:
        migrate.upgrade(engine, args.revision)
    console.print(f"database at {args.revision}")
    return 0


def _db_downgrade(settings: Settings, args: argparse.Namespace) -> int:
    from api.database import open_engine
    from catalog import migrate

    with open_engine(settings, prepared=False) as engine:
        migrate.downgrade(engine, args.revision)
    console.print(f"database at {args.revision}")
    return 0


def _audit_seal(settings: Settings, _args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from api.database import open_engine
    from catalog.audit_chain import seal

    with open_engine(settings) as engine, Session(engine) as session, session.begin():
        sealed = seal(session)
    console.print(f"{sealed} events sealed")
    return 0


def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from api.database import open_engine
    from catalog.audit_chain import seal, unsealed, verify

    with open_engine(settings) as engine:
        if not args.no_seal:
            with Session(engine) as session, session.begin():
                seal(session)
        with engine.connect() as connection:
            result = verify(connection)
            waiting = unsealed(connection)
    print(
        f"{result.events} events verified in {result.seconds:.2f} s"
        f" ({result.events_per_second:,.0f} events/s); head {result.head_seq}"
        f" {result.head_hash.hex()}; {waiting} not yet sealed"
    )
    if result.broken is not None:
        broken = result.broken
        print(f"BROKEN at seq {broken.seq} (event id {broken.id}): {broken.problem}")
        return 1
    print("chain intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
