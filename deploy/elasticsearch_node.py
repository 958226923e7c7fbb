"""A single-node Elasticsearch on 127.0.0.1 for development and tests; never for production.

The node runs Elastic's integration-test distribution (a zip on Maven Central, fetched with
``mvn`` or, without it, over HTTPS) with security off, a capped heap and no disk watermarks. It
is the one implementation behind ``deploy/elasticsearch`` and the test fixtures, and it uses
only the standard library so that it runs before the virtualenv exists.

Elasticsearch refuses to run as root, so under root the node runs as the system user
``atrium-elasticsearch`` (created on first use, as pgserver does for Postgres), and the
directories it needs are opened to that user.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

VERSION = (Path(__file__).with_name("elasticsearch.version")).read_text().strip()
GROUP_ID = "org.elasticsearch.distribution.integ-test-zip"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
SERVICE_USER = "atrium-elasticsearch"
DEFAULT_PORT = 9200
DEFAULT_HEAP_MB = 512
LOG_TAIL_LINES = 40
STACK_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")


class ElasticsearchError(RuntimeError):
    """Elasticsearch could not be obtained, started, reached or stopped; the message says why."""


def default_cache() -> Path:
    return Path(os.environ.get("ATRIUM_DATA_DIR") or ".atrium") / "elasticsearch"


# --- the distribution -------------------------------------------------------------------------


def obtain(
    version: str = VERSION,
    cache: Path | None = None,
    *,
    maven: bool = True,
    mirror: str = MAVEN_CENTRAL,
) -> Path:
    """The unpacked distribution of ``version`` under ``cache/version``, fetched once.

    ``mvn``, when installed (and ``maven`` is true), resolves the zip through the user's Maven
    settings and local repository; otherwise the same zip is downloaded from ``mirror`` and
    checked against the SHA-1 published beside it.
    """
    root = (cache or default_cache()).resolve() / version
    home = root / f"elasticsearch-{version}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        if (home / "bin" / "elasticsearch").exists():
            return home
        archive = root / f"elasticsearch-{version}.zip"
        if not archive.exists():
            mvn = shutil.which("mvn") if maven else None
            if mvn:
                _copy_with_maven(mvn, version, root)
            else:
                _download(_artifact_url(mirror, version), archive)
        _unpack(archive, root, home.name)
    return home


def _artifact_url(mirror: str, version: str) -> str:
    group = GROUP_ID.replace(".", "/")
    return f"{mirror.rstrip('/')}/{group}/elasticsearch/{version}/elasticsearch-{version}.zip"


def _copy_with_maven(mvn: str, version: str, into: Path) -> None:
    artifact = f"{GROUP_ID}:elasticsearch:{version}:zip"
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [
            mvn,
            "--batch-mode",
            "--quiet",
            "dependency:copy",
            f"-Dartifact={artifact}",
            f"-DoutputDirectory={into}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ElasticsearchError(
            f"mvn could not fetch {artifact}:\n{_last_lines(result.stdout + result.stderr)}"
        )


def _download(url: str, archive: Path) -> None:
    try:
        expected = _fetch(url + ".sha1").decode().split()[0]
        partial = archive.with_suffix(".part")
        digest = hashlib.sha1()  # noqa: S324 - Maven publishes SHA-1; integrity, not security
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:  # noqa: S310
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        raise ElasticsearchError(f"could not download {url} without mvn: {exc}") from None
    if digest.hexdigest() != expected:
        partial.unlink()
        raise ElasticsearchError(f"checksum mismatch for {url}: got {digest.hexdigest()}")
    partial.rename(archive)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - https or a test mirror
        body: bytes = response.read()
        return body


def _unpack(archive: Path, root: Path, name: str) -> None:
    """Unzip keeping the executable bits zipfile drops, then move the result into place whole."""
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".unpack-"))
    try:
        try:
            bundle = zipfile.ZipFile(archive)
        except zipfile.BadZipFile:
            archive.unlink()
            raise ElasticsearchError(f"{archive} was not a zip (removed; try again)") from None
        with bundle:
            for member in bundle.infolist():
                target = Path(bundle.extract(member, staging))
                mode = member.external_attr >> 16
                if mode and not member.is_dir():
                    target.chmod(stat.S_IMODE(mode) | 0o444)
        unpacked = staging / name
        if not (unpacked / "bin" / "elasticsearch").exists():
            raise ElasticsearchError(f"{archive} does not hold {name}/bin/elasticsearch")
        _open_tree(unpacked)
        unpacked.rename(root / name)
        _open_way(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _open_tree(path: Path) -> None:
    """Readable (and directories traversable) by everyone, so the service user can run it."""
    for directory, _, files in os.walk(path):
        Path(directory).chmod(0o755)
        for file in files:
            entry = Path(directory) / file
            entry.chmod(entry.stat().st_mode | 0o444)


# --- Java -------------------------------------------------------------------------------------


def minimum_java(version: str) -> int:
    """Elasticsearch 8 runs on Java 17 and later, 9 on Java 21 and later."""
    return 17 if int(version.split(".")[0]) < 9 else 21


def find_java(minimum: int, candidates: Iterable[Path] | None = None) -> Path:
    """The Java home to run the node with: ES_JAVA_HOME if set, else the oldest installed JDK
    that is new enough (the most conservative choice for an Elasticsearch of that era)."""
    explicit = os.environ.get("ES_JAVA_HOME")
    if candidates is None and explicit:
        candidates = [Path(explicit)]
    homes = list(candidates) if candidates is not None else _installed_javas()
    found = {home: _java_major(home) for home in homes}
    suitable = sorted((major, str(home)) for home, major in found.items() if major >= minimum)
    if not suitable:
        seen = ", ".join(f"{home} ({major or 'unusable'})" for home, major in found.items())
        raise ElasticsearchError(
            f"Elasticsearch needs Java {minimum} or newer; found: {seen or 'none'}. "
            f"Install one (apt-get install openjdk-{minimum}-jdk-headless) or set ES_JAVA_HOME."
        )
    return Path(suitable[0][1])


def _installed_javas() -> list[Path]:
    homes: dict[Path, None] = {}
    if os.environ.get("JAVA_HOME"):
        homes[Path(os.environ["JAVA_HOME"]).resolve()] = None
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        for entry in sorted(jvm.iterdir()):
            homes[entry.resolve()] = None
    on_path = shutil.which("java")
    if on_path:
        homes[Path(on_path).resolve().parent.parent] = None
    return list(homes)


def _java_major(home: Path) -> int:
    java = home / "bin" / "java"
    if not java.is_file():
        return 0
    result = subprocess.run(  # noqa: S603 - a JDK's own launcher
        [str(java), "-XshowSettings:properties", "-version"],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"java\.specification\.version = (\d+)", result.stderr)
    return int(match.group(1)) if match else 0


# --- the node ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where one node keeps its configuration, data, logs and process id."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def pid_file(self) -> Path:
        return self.root / "elasticsearch.pid"

    @property
    def console(self) -> Path:
        return self.root / "console.log"

    @property
    def http_ports(self) -> Path:
        return self.logs / "http.ports"

    @property
    def users(self) -> Path:
        return self.root / "users.json"


class Node:
    """One local node in its own directory. ``port=0`` lets the node pick a free port, which
    ``restart`` then keeps so that clients configured with the URL reconnect."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int = DEFAULT_PORT,
        version: str = VERSION,
        cache: Path | None = None,
        heap_mb: int = DEFAULT_HEAP_MB,
    ) -> None:
        self.layout = Layout(directory.resolve())
        self.port = port
        self.version = version
        self.cache = cache
        self.heap_mb = heap_mb

    def pid(self) -> int | None:
        """The running node's process id; None if the pid file is absent or names a process
        that is not this node (a stale file whose pid was reused)."""
        try:
            pid = int(self.layout.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if f"-Djava.io.tmpdir={self.layout.tmp}".encode() in cmdline else None

    def url(self) -> str | None:
        """The running node's HTTP address."""
        if self.pid() is None:
            return None
        try:
            address = self.layout.http_ports.read_text().split()[0]
        except (OSError, IndexError):
            return None
        return f"http://{address}"

    def start(self, timeout: float = 240) -> str:
        """Start the node, or reuse it if it already runs; its URL once the cluster is usable."""
        self.layout.root.mkdir(parents=True, exist_ok=True)
        with _locked(self.layout.root / ".lock"):
            url = self.url()
            if url is not None:
                wait_until_healthy(url, timeout)
            else:
                url = self._launch(timeout)
        self.port = int(url.rsplit(":", 1)[1])
        return url

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM (Elasticsearch shuts down cleanly on it), then SIGKILL after ``timeout``."""
        with _locked(self.layout.root / ".lock"):
            pid = self.pid()
            if pid is not None:
                _terminate(pid, timeout)
            self.layout.pid_file.unlink(missing_ok=True)

    def restart(self, timeout: float = 240) -> str:
        """Stop and start again on the same port (the one first picked) and the same data."""
        self.stop()
        return self.start(timeout)

    def _launch(self, timeout: float) -> str:
        home = obtain(self.version, self.cache)
        java = find_java(minimum_java(self.version))
        self._configure(home)
        self.layout.pid_file.unlink(missing_ok=True)
        self.layout.http_ports.unlink(missing_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.layout.root),
            "ES_JAVA_HOME": str(java),
            "ES_PATH_CONF": str(self.layout.config),
            "ES_TMPDIR": str(self.layout.tmp),
            "ES_JAVA_OPTS": f"-Xms{self.heap_mb}m -Xmx{self.heap_mb}m",
        }
        command = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(self.layout.pid_file)]
        account = _service_user()
        with self.layout.console.open("ab") as console:
            try:
                subprocess.run(  # noqa: S603 - the distribution's own launcher
                    command,
                    env=env,
                    cwd=self.layout.root,
                    stdin=subprocess.DEVNULL,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    user=account.pw_uid if account else None,
                    group=account.pw_gid if account else None,
                    extra_groups=[] if account else None,
                    timeout=timeout,
                    check=True,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise ElasticsearchError(
                    f"Elasticsearch did not start ({exc}); last lines of its logs:\n{self.tail()}"
                ) from None
        url = self.url()
        if url is None:
            raise ElasticsearchError(f"Elasticsearch started but wrote no address:\n{self.tail()}")
        wait_until_healthy(url, timeout)
        return url

    def _configure(self, home: Path) -> None:
        layout = self.layout
        for directory in (layout.config / "jvm.options.d", layout.data, layout.logs, layout.tmp):
            directory.mkdir(parents=True, exist_ok=True)
        for name in ("jvm.options", "log4j2.properties"):
            shutil.copyfile(home / "config" / name, layout.config / name)
        settings = {
            "cluster.name": "atrium-dev",
            "node.name": "atrium-dev",
            "path.data": str(layout.data),
            "path.logs": str(layout.logs),
            "network.host": "127.0.0.1",
            "http.port": self.port,
            "transport.port": 0,
            "discovery.type": "single-node",
            "xpack.security.enabled": False,
            "node.portsfile": True,
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        (layout.config / "elasticsearch.yml").write_text(
            "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items())
        )
        if os.geteuid() == 0:
            _hand_over(layout.root)

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The end of the launcher's output (which holds the server's until it is up)."""
        try:
            text = self.layout.console.read_text(errors="replace")
        except OSError:
            return "(no log written)"
        return f"==> {self.layout.console} <==\n{_last_lines(text, lines)}"


@contextlib.contextmanager
def shared_node(directory: Path, *, cache: Path | None = None) -> Iterator[str]:
    """A node on a free port used by several processes at once (pytest-xdist workers): the
    first starts it, the last to leave stops it. Users are process ids kept in a file."""
    node = Node(directory, port=0, cache=cache)
    node.layout.root.mkdir(parents=True, exist_ok=True)
    _register(node, os.getpid(), joining=True)
    try:
        yield node.start()
    finally:
        if not _register(node, os.getpid(), joining=False):
            node.stop()


def _register(node: Node, pid: int, *, joining: bool) -> list[int]:
    """Add or remove ``pid`` from the node's users; the users still alive afterwards."""
    with _locked(node.layout.root / ".users.lock"):
        try:
            users = [int(p) for p in json.loads(node.layout.users.read_text())]
        except (OSError, ValueError):
            users = []
        users = [p for p in users if p != pid and _alive(p)] + ([pid] if joining else [])
        node.layout.users.write_text(json.dumps(users))
        return users


def wait_until_healthy(url: str, timeout: float = 120) -> None:
    """Until the cluster is yellow or green (a lone node never assigns replicas)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            health = json.loads(_fetch(f"{url}/_cluster/health?wait_for_status=yellow&timeout=5s"))
            if health.get("status") in ("yellow", "green"):
                return
            last = health
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = exc
        time.sleep(0.5)
    raise ElasticsearchError(f"Elasticsearch at {url} not healthy after {timeout:.0f}s: {last}")


def check_reachable(url: str) -> None:
    try:
        health = json.loads(_fetch(f"{url.rstrip('/')}/_cluster/health"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ElasticsearchError(f"ATRIUM_ELASTICSEARCH_URL={url} does not answer: {exc}") from None
    if health.get("status") not in ("yellow", "green"):
        raise ElasticsearchError(f"ATRIUM_ELASTICSEARCH_URL={url} is {health.get('status')}")


# --- processes, users, locks ------------------------------------------------------------------


def _terminate(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    """True while any thread of ``pid`` runs: a JVM's main thread can end (a zombie leader)
    while the rest of the process is still shutting down."""
    try:
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
    except (OSError, ValueError):
        return False
    return not status["State"].strip().startswith("Z") or int(status["Threads"]) > 1


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the node: the caller (None), or under root an unprivileged system user with
    only its own group (root's group would deny it directories other users may traverse)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            [  # noqa: S607 - useradd from the system's PATH, as pgserver does
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
    return pwd.getpwnam(SERVICE_USER)


def _hand_over(root: Path) -> None:
    """Give the node's directory to the service user and let it traverse the way there."""
    entry = _service_user() or pwd.getpwnam(SERVICE_USER)
    for directory, subdirectories, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, n) for n in subdirectories + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)
    _open_way(root)


def _open_way(path: Path) -> None:
    """Let every user traverse (not list) the directories above ``path``, as pgserver does."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _last_lines(text: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines without Java stack frames, which would crowd out the cause."""
    kept = [line for line in text.rstrip().splitlines() if not STACK_FRAME.match(line)]
    return "\n".join(kept[-lines:])


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="deploy/elasticsearch",
        description=f"A local single-node Elasticsearch {VERSION} for development and tests.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in (
        ("start", "obtain (once), start or reuse the node; print its URL"),
        ("stop", "stop the node"),
        ("url", "print the running node's URL"),
    ):
        command = commands.add_parser(name, help=summary)
        command.add_argument(
            "--data",
            type=Path,
            default=default_cache() / "node",
            help="the node's directory (default: $ATRIUM_DATA_DIR/elasticsearch/node)",
        )
        if name == "start":
            command.add_argument(
                "--port", type=int, default=DEFAULT_PORT, help="HTTP port; 0 picks a free one"
            )
    args = parser.parse_args(argv)
    try:
        print(_run(args))
    except ElasticsearchError as exc:
        print(f"deploy/elasticsearch: {exc}", file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace) -> str:
    configured = os.environ.get("ATRIUM_ELASTICSEARCH_URL")
    if configured:
        if args.command == "start":
            check_reachable(configured)
        return configured if args.command != "stop" else "ATRIUM_ELASTICSEARCH_URL is external"
    node = Node(args.data, port=getattr(args, "port", DEFAULT_PORT))
    if args.command == "start":
        return node.start()
    if args.command == "stop":
        node.stop()
        return "stopped"
    url = node.url()
    if url is None:
        raise ElasticsearchError(f"no node runs in {node.layout.root}")
    return url


if __name__ == "__main__":
    sys.exit(main())
