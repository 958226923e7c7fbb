"""The real GA4GH DRS client (``ga4gh-drs-client``, its ``drs get`` command) against a running
``atrium serve`` over TLS: metadata and a verified download of an open object, a nested bundle,
and a controlled object before a grant, with it, after its revocation and after its expiry;
then the same for a grant issued by an access request approved entirely through GraphQL.

What the client does, read from its source (ga4gh/drs, version 0.1.7):
- ``drs get URL OBJECT_ID`` accepts only ``https`` base URLs; it fetches the object with
  ``?expand=``, calls ``/access/{access_id}`` for each access method that has an id, and keeps
  only methods whose URL is ``https``, ``http`` or ``gs``. Bundle leaves are fetched again
  through their ``drs_uri`` (``drs://host:port/id`` becomes ``https://host:port``).
- It verifies certificates with ``requests`` (``verify=True`` unless ``--suppress-ssl-verify``),
  which trusts certifi's bundle or ``REQUESTS_CA_BUNDLE``, not ``SSL_CERT_FILE``. The server's
  certificate comes from a throwaway CA (trustme) that only ``REQUESTS_CA_BUNDLE`` names, and one
  run without it shows that verification is really on.
- ``--validate-checksum`` uses the first type it knows in the order md5, sha-256; the test
  therefore compares sha-256 itself as well. Its exit code is 0 on success, 1 when the object
  request fails (an error status) and 2 when a download or a checksum fails; each download is
  listed in ``drs_download_report.txt`` in the output directory.

This module must not use fixed ports, leave a server running, or wait without a bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.cli import main
from catalog import demo, service
from catalog.db import make_engine
from catalog.models import RoleName
from catalog.principals import SYSTEM
from catalog.schemas import DatasetCreate, FileCreate
from governance import service as governance
from governance.models import AccessGrant

BIN = Path(sys.executable).parent
DATASETS = 10
FILES_PER_DATASET = 3
SEED = 42
OPEN_LOCAL = 5  # local demo datasets are 5 and 10; the test checks which access level they have
STEWARD = "harbor-pediatric-biobank"
CONTROLLED_ID = "e2e-controlled-f00000"
SERVER_START_SECONDS = 30
CLIENT_SECONDS = 60
# The expiring grant must outlive one client run (about a second; more on a busy 2-core CI
# machine). The other checks run while it expires, so a generous lifetime costs little time.
SHORT_GRANT_SECONDS = 8
TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(frozen=True)
class Atrium:
    """A running ``atrium serve`` over TLS and what the test needs to talk about it."""

    base_url: str
    ca_pem: Path
    storage: Path
    log: Path
    engine: Engine
    controlled_accession: str
    tmp: Path

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_pem))

    def http(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=self.tls(), timeout=timeout)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass(frozen=True)
class DrsRun:
    """One finished ``drs get``."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    output_dir: Path
    server_log: Path

    @property
    def metadata(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.stdout)
        return document

    def report(self) -> dict[str, dict[str, str]]:
        """The client's download report, one row per object id."""
        lines = (self.output_dir / "drs_download_report.txt").read_text().splitlines()
        rows = [line.split("\t") for line in lines if not line.startswith("#")]
        header, body = rows[0], rows[1:]
        return {row[0]: dict(zip(header, row, strict=True)) for row in body}

    def explain(self) -> str:
        return (
            f"$ {' '.join(self.command)}\nexit {self.returncode}\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}\n"
            f"--- atrium serve (log level warning)\n{self.server_log.read_text()[-3000:]}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for localhost and 127.0.0.1: (ca, cert, key)."""
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert_pem.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(key_pem))
    return ca_pem, cert_pem, key_pem


def controlled_content() -> bytes:
    return hashlib.shake_256(b"atrium drs client e2e: controlled").digest(12_345)


def add_controlled_dataset(engine: Engine, storage: Path) -> str:
    """The demo's local datasets are open, so a controlled one with one local file is added
    through the services, its bytes written where the local storage serves them."""
    content = controlled_content()
    with Session(engine) as session, session.begin():
        dataset = service.create_dataset(
            session,
            SYSTEM,
            data=DatasetCreate.model_validate(
                {
                    "title": "Controlled local data for the DRS client test",
                    "access_level": "controlled",
                    "steward": STEWARD,
                    "committee": f"{STEWARD}-dac",
                    "data_use": {"permission": "GRU"},
                }
            ),
        )
        accession = dataset.accession
        key = f"{accession}/controlled.bin"
        service.register_files(
            session,
            SYSTEM,
            accession=accession,
            files=[
                FileCreate.model_validate(
                    {
                        "id": CONTROLLED_ID,
                        "name": "controlled.bin",
                        "size": len(content),
                        "mime_type": "application/octet-stream",
                        "checksums": [
                            {"type": "sha-256", "checksum": hashlib.sha256(content).hexdigest()},
                            {
                                "type": "md5",
                                "checksum": hashlib.md5(content, usedforsecurity=False).hexdigest(),
                            },
                        ],
                        "access_methods": [{"type": "file", "url": f"file:///{key}"}],
                    }
                )
            ],
        )
        service.publish_dataset(session, SYSTEM, accession=accession)
    path = storage / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return accession


def wait_until_healthy(server: subprocess.Popen[bytes], atrium: Atrium) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    with atrium.http(timeout=2) as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"atrium serve exited with {server.returncode}:\n{atrium.server_log()}")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    pytest.fail(f"atrium serve not healthy within {SERVER_START_SECONDS} s:\n{atrium.server_log()}")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture
def atrium(
    committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Atrium]:
    """``atrium demo --no-serve`` into the committed scratch database, one controlled local
    dataset, then ``atrium serve`` over TLS on a free port, stopped at the end whatever happened.
    """
    port = free_port()
    base_url = f"https://localhost:{port}"
    ca_pem, cert_pem, key_pem = write_certificates(tmp_path)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("ATRIUM_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ATRIUM_PUBLIC_BASE_URL", base_url)
    monkeypatch.setenv("ATRIUM_LOG_LEVEL", "warning")
    for name in ("ATRIUM_HOST", "ATRIUM_PORT", "ATRIUM_STORAGE_DIR"):
        monkeypatch.delenv(name, raising=False)
    demo_args = ["--datasets", str(DATASETS), "--files-per-dataset", str(FILES_PER_DATASET)]
    assert main(["demo", "--no-serve", *demo_args]) == 0
    storage = data_dir / "files"
    engine = make_engine(committed_database_url, pool_size=1)
    try:
        accession = add_controlled_dataset(engine, storage)
        deployment = Atrium(
            base_url, ca_pem, storage, tmp_path / "server.log", engine, accession, tmp_path
        )
        command = [str(BIN / "atrium"), "serve", "--port", str(port)]
        command += ["--certfile", str(cert_pem), "--keyfile", str(key_pem)]
        with deployment.log.open("wb") as log_file:
            server = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(server, deployment)
            yield deployment
        finally:
            stop(server)
    finally:
        engine.dispose()


def drs_get(
    atrium: Atrium,
    object_id: str,
    *options: str,
    token: str | None = None,
    trust_ca: bool = True,
) -> DrsRun:
    """``drs get BASE_URL OBJECT_ID --download --validate-checksum`` into a new directory."""
    output_dir = atrium.tmp / f"drs-{uuid.uuid4().hex[:8]}"
    output_dir.mkdir()
    command = [str(BIN / "drs"), "get", atrium.base_url, object_id]
    command += ["--download", "--validate-checksum", "--output-dir", str(output_dir), *options]
    env = {k: v for k, v in os.environ.items() if k not in TRUST_VARIABLES}
    if trust_ca:
        env["REQUESTS_CA_BUNDLE"] = str(atrium.ca_pem)
    shown = list(command)
    if token is not None:
        command += ["--authtoken", token]
        shown += ["--authtoken", "<token>"]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=CLIENT_SECONDS, check=False
    )
    return DrsRun(shown, done.returncode, done.stdout, done.stderr, output_dir, atrium.log)


def assert_downloaded(run: DrsRun, expected: dict[str, Path]) -> None:
    """Every object in ``expected`` (id to file on the server's disk) arrived byte for byte,
    and the client says it downloaded and verified exactly those objects."""
    assert run.returncode == 0, run.explain()
    report = run.report()
    assert set(report) == set(expected), run.explain()
    for object_id, source in expected.items():
        row = report[object_id]
        original = source.read_bytes()
        downloaded = run.output_dir / object_id / source.name
        assert row["Output File"] == str(downloaded), row
        assert row["Download Status"] == "COMPLETED", row
        assert row["Checksum Status"] == "PASSED", row
        assert row["Hash Algorithm"] == "md5", row
        md5 = hashlib.md5(original, usedforsecurity=False).hexdigest()
        assert row["Expected"] == row["Observed"] == md5
        assert downloaded.read_bytes() == original
        assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == (
            hashlib.sha256(original).hexdigest()
        )


def demo_file(atrium: Atrium, n: int, index: int) -> tuple[str, Path]:
    """(DRS id, file on the server's disk) of file ``index`` of demo dataset ``n``."""
    records = demo.dataset_records(n, files_per_dataset=FILES_PER_DATASET, seed=SEED)
    record = [r for r in records if r["type"] == "file"][index]
    key = record["access_methods"][0]["url"].removeprefix("file:///")
    return record["id"], atrium.storage / key


def mint(capsys: pytest.CaptureFixture[str], subject: str) -> str:
    """``atrium token --sub SUBJECT``, run in-process with the test's environment."""
    capsys.readouterr()
    assert main(["token", "--sub", subject]) == 0
    token = capsys.readouterr().out.strip()
    assert token.count(".") == 2
    return token


def grant(atrium: Atrium, subject: str, expires_at: datetime) -> uuid.UUID:
    with Session(atrium.engine) as session, session.begin():
        created = governance.grant_access(
            session,
            SYSTEM,
            issuer=atrium.base_url,
            subject=subject,
            accession=atrium.controlled_accession,
            expires_at=expires_at,
        )
        return created.id


def controlled_status(atrium: Atrium, token: str | None) -> tuple[int, int]:
    """Atrium's own answers for the controlled object: (object, access URL) status codes."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    path = f"/ga4gh/drs/v1/objects/{CONTROLLED_ID}"
    with atrium.http() as http:
        found = http.get(path, headers=headers)
        access = http.get(f"{path}/access/file", headers=headers)
    return found.status_code, access.status_code


def test_demo_local_datasets_are_open() -> None:
    """The premise of the open-object tests below, and why a controlled one is added."""
    levels = {
        n: next(demo.dataset_records(n, files_per_dataset=FILES_PER_DATASET, seed=SEED))
        for n in range(1, DATASETS + 1)
        if demo.is_local(n)
    }
    assert {n: (r["access_level"], r["status"]) for n, r in levels.items()} == {
        5: ("open", "published"),
        10: ("open", "published"),
    }


def check_open_object(atrium: Atrium) -> None:
    """1. Metadata and a checksum-validated download of an open local object; without the CA
    the same command fails, so the client really verifies the server's certificate."""
    object_id, source = demo_file(atrium, OPEN_LOCAL, 0)

    untrusted = drs_get(atrium, object_id, trust_ca=False)
    assert untrusted.returncode == 1, untrusted.explain()
    assert "Could not find any service/host" in untrusted.stderr, untrusted.explain()
    assert not (untrusted.output_dir / object_id).exists()

    run = drs_get(atrium, object_id)
    assert_downloaded(run, {object_id: source})
    content = source.read_bytes()
    metadata = run.metadata
    port = atrium.base_url.rsplit(":", 1)[1]
    assert metadata["id"] == object_id
    assert metadata["self_uri"] == f"drs://localhost:{port}/{object_id}"
    assert metadata["name"] == source.name
    assert metadata["size"] == len(content)
    assert {c["type"]: c["checksum"] for c in metadata["checksums"]} == {
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        "sha-256": hashlib.sha256(content).hexdigest(),
    }
    assert [(m["type"], m["access_id"]) for m in metadata["access_methods"]] == [("https", "file")]


def check_nested_bundle(atrium: Atrium) -> None:
    """2. ``<acc>-sample`` holds ``<acc>-pair`` (two files) and a third file: all three arrive."""
    members = dict(demo_file(atrium, OPEN_LOCAL, i) for i in range(3))
    bundle = f"{demo.accession(OPEN_LOCAL).lower()}-sample"

    run = drs_get(atrium, bundle, "--expand")

    assert_downloaded(run, members)
    contents = {c["name"]: c for c in run.metadata["contents"]}
    assert set(contents) == {"pair", "variants"}
    assert {c["id"] for c in contents["pair"]["contents"]} == set(list(members)[:2])
    assert run.metadata["size"] == sum(p.stat().st_size for p in members.values())


def check_grant_and_revocation(atrium: Atrium, capsys: pytest.CaptureFixture[str]) -> None:
    """3. A controlled object: 401 without a token, downloaded with a granted user's token,
    403 once the grant is revoked."""
    source = atrium.storage / atrium.controlled_accession / "controlled.bin"

    anonymous = drs_get(atrium, CONTROLLED_ID)
    assert anonymous.returncode == 1, anonymous.explain()
    assert "Invalid status code (401)" in anonymous.stderr, anonymous.explain()
    assert controlled_status(atrium, None) == (401, 401)

    grant_id = grant(atrium, "gina", datetime.now(UTC) + timedelta(days=1))
    token = mint(capsys, "gina")
    granted = drs_get(atrium, CONTROLLED_ID, token=token)
    assert_downloaded(granted, {CONTROLLED_ID: source})
    assert source.read_bytes() == controlled_content()

    with Session(atrium.engine) as session, session.begin():
        governance.revoke_grant(session, SYSTEM, grant_id=grant_id, reason="e2e: access ended")
    revoked = drs_get(atrium, CONTROLLED_ID, token=token)
    assert revoked.returncode == 1, revoked.explain()
    assert "Invalid status code (403)" in revoked.stderr, revoked.explain()
    assert not (revoked.output_dir / CONTROLLED_ID).exists()
    assert controlled_status(atrium, token) == (403, 403)


def test_drs_client_downloads_exactly_what_atrium_allows(
    atrium: Atrium, capsys: pytest.CaptureFixture[str]
) -> None:
    """One deployment for all checks: loading the demo and starting a server take seconds, and
    separate tests would each pay for it (under xdist, on both workers).

    4. An expiring grant is made first and checked last: it allows a download now, and once it
    has expired the same download is refused; checks 1 to 3 run while it expires."""
    hank = mint(capsys, "hank")  # first, so that none of the grant's lifetime is spent on it
    expires_at = datetime.now(UTC) + timedelta(seconds=SHORT_GRANT_SECONDS)
    grant(atrium, "hank", expires_at)
    source = atrium.storage / atrium.controlled_accession / "controlled.bin"
    before = drs_get(atrium, CONTROLLED_ID, token=hank)
    finished = datetime.now(UTC)
    assert finished < expires_at, (
        f"the client outlived the grant it was to test:\n{before.explain()}"
    )
    assert_downloaded(before, {CONTROLLED_ID: source})

    check_open_object(atrium)
    check_nested_bundle(atrium)
    check_grant_and_revocation(atrium, capsys)

    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
    after = drs_get(atrium, CONTROLLED_ID, token=hank)
    assert after.returncode == 1, after.explain()
    assert "Invalid status code (403)" in after.stderr, after.explain()
    assert not (after.output_dir / CONTROLLED_ID).exists()
    assert controlled_status(atrium, hank) == (403, 403)


def graphql(atrium: Atrium, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """One GraphQL operation over HTTPS; the mutation's payload, which must have no errors."""
    with atrium.http() as http:
        response = http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload.get("errors", []) == [], payload
    result: dict[str, Any] = payload
    return result


REQUEST_FIELDS = "request { id state reviews { id state } grants { id expiresAt active } }"
ERRORS = "errors { field message code }"
CREATE_REQUEST = (
    'mutation($a: String!) { accessRequestCreate(input: {projectTitle: "E2E",'
    ' laySummary: "Heart disease in children.", researchUse: "Burden tests.",'
    ' purposes: [DS], diseases: ["MONDO:0004992"], durationDays: 30,'
    ' institution: "Northbridge", datasets: [{accession: $a}]}) {'
    f" {REQUEST_FIELDS} {ERRORS} }} }}"
)


def request_command(name: str) -> str:
    return f"mutation($id: UUID!) {{ {name}(id: $id) {{ {REQUEST_FIELDS} {ERRORS} }} }}"


def review_command(name: str, args: str = "") -> str:
    return (
        f"mutation($id: UUID!) {{ {name}(id: $id{args}) {{ review {{ id state }}"
        f" {REQUEST_FIELDS} {ERRORS} }} }}"
    )


def approved_through_graphql(atrium: Atrium, researcher: str, chair: str) -> dict[str, Any]:
    """A request taken from draft to approval by GraphQL calls alone, with one round of
    changes requested; the approved request."""
    created = graphql(atrium, researcher, CREATE_REQUEST, a=atrium.controlled_accession)
    request_id = created["request"]["id"]
    submitted = graphql(atrium, researcher, request_command("accessRequestSubmit"), id=request_id)
    (review,) = submitted["request"]["reviews"]
    assert (submitted["request"]["state"], review["state"]) == ("SUBMITTED", "SUBMITTED")

    def as_chair(name: str, args: str = "") -> dict[str, Any]:
        return graphql(atrium, chair, review_command(name, args), id=review["id"])

    assert as_chair("reviewStart")["request"]["state"] == "UNDER_REVIEW"
    changed = as_chair("reviewRequestChanges", ', comment: "Name your ethics approval."')
    assert changed["request"]["state"] == "CHANGES_REQUESTED"
    resubmitted = graphql(
        atrium, researcher, request_command("accessRequestResubmit"), id=request_id
    )
    assert resubmitted["request"]["state"] == "RESUBMITTED"
    as_chair("reviewStart")
    decided = as_chair("reviewDecide", ", decision: APPROVE")
    assert decided["review"]["state"] == "APPROVED"
    approved: dict[str, Any] = decided["request"]
    assert approved["state"] == "APPROVED"
    assert [g["active"] for g in approved["grants"]] == [True]
    return approved


def test_a_request_approved_through_graphql_lets_the_drs_client_download(
    atrium: Atrium, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole workflow through GraphQL; the grant it issues lets ``drs get`` download the
    controlled file; the download fails after the committee revokes the grant, and (for a
    second researcher) after the grant expires."""
    with Session(atrium.engine) as session, session.begin():
        service.assign_role(
            session,
            SYSTEM,
            issuer=atrium.base_url,
            subject="carla",
            role=RoleName.COMMITTEE_CHAIR,
            scope=f"{STEWARD}-dac",
        )
    chair, rita, hank = (mint(capsys, s) for s in ("carla", "rita", "hank"))
    source = atrium.storage / atrium.controlled_accession / "controlled.bin"
    assert controlled_status(atrium, rita) == (403, 403)

    approved = approved_through_graphql(atrium, rita, chair)
    assert_downloaded(drs_get(atrium, CONTROLLED_ID, token=rita), {CONTROLLED_ID: source})
    (grant,) = approved["grants"]
    revoke = (
        'mutation($g: UUID!) { accessGrantRevoke(id: $g, reason: "E2E: terms breached") {'
        " grant { active } errors { field message code } } }"
    )
    assert graphql(atrium, chair, revoke, g=grant["id"])["grant"] == {"active": False}
    revoked = drs_get(atrium, CONTROLLED_ID, token=rita)
    assert revoked.returncode == 1, revoked.explain()
    assert "Invalid status code (403)" in revoked.stderr, revoked.explain()
    assert controlled_status(atrium, rita) == (403, 403)

    approved = approved_through_graphql(atrium, hank, chair)
    assert_downloaded(drs_get(atrium, CONTROLLED_ID, token=hank), {CONTROLLED_ID: source})
    (grant,) = approved["grants"]
    with Session(atrium.engine) as session, session.begin():  # the clock passes its expiry
        session.execute(
            update(AccessGrant)
            .where(AccessGrant.id == uuid.UUID(grant["id"]))
            .values(
                starts_at=datetime.now(UTC) - timedelta(days=31),
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
    expired = drs_get(atrium, CONTROLLED_ID, token=hank)
    assert expired.returncode == 1, expired.explain()
    assert "Invalid status code (403)" in expired.stderr, expired.explain()
    with atrium.http() as http:
        late = http.post(
            "/graphql",
            json={"query": revoke, "variables": {"g": grant["id"]}},
            headers={"Authorization": f"Bearer {chair}"},
        ).json()
    assert late["data"]["accessGrantRevoke"]["errors"] == [
        {"field": None, "message": "the grant has already expired", "code": "INVALID_TRANSITION"}
    ]
