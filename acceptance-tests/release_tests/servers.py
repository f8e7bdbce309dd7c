"""HTTPS servers on 127.0.0.1 that Terraform installs providers from.

`Registry` answers the provider registry protocol (service discovery, versions, download) for
one provider and serves the release's files; `StaticMirror` serves a directory as a provider
network mirror, the way an organisation hosts the output of `terraform providers mirror` on a
static web server. Both bind only to 127.0.0.1 on a port the system picks, and are context
managers that always stop their thread.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

from pki import SERVER_NAME, Tls

if TYPE_CHECKING:
    from conftest import ReleaseFiles
    from gpg import Keyring

SHUTDOWN_TIMEOUT_SECONDS = 30
# A response is JSON (a dict or list), a file to stream, or nothing (404).
Body = Union[dict, list, Path, None]


@dataclass
class Request:
    """One request as the server saw it, for tests to assert on."""

    path: str
    status: int


class HttpsServer:
    """A threaded HTTPS server on 127.0.0.1 whose responses come from `respond(path)`."""

    def __init__(self, tls: Tls, respond: Callable[[str], Body]):
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                path = urllib.parse.urlsplit(self.path).path
                body = respond(path)
                # Recorded before answering, so the record is there once the client has its answer.
                with server._lock:
                    server.requests.append(Request(path, 404 if body is None else 200))
                if body is None:
                    self._send(404, "text/plain", b"not found\n")
                elif isinstance(body, Path):
                    self._send_file(body)
                else:
                    self._send(200, "application/json", json.dumps(body, indent=2).encode())

            def _send(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_file(self, path: Path) -> None:
                self.send_response(200)
                kind = "application/json" if path.suffix == ".json" else "application/octet-stream"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(path.stat().st_size))
                self.end_headers()
                with open(path, "rb") as source:
                    shutil.copyfileobj(source, self.wfile, 1 << 20)

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                # Requests are recorded in `requests`; stderr stays quiet.
                pass

        self._handler = Handler
        self._tls = tls
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def host(self) -> str:
        """The host and port Terraform connects to (a hostname: see pki.SERVER_NAME)."""
        assert self.port, "the server has not been started"
        return f"{SERVER_NAME}:{self.port}"

    def paths(self) -> list[str]:
        with self._lock:
            return [request.path for request in self.requests]

    def __enter__(self) -> HttpsServer:
        """Binds 127.0.0.1 on a port the system picks and serves in a thread."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._tls.cert_file, self._tls.key_file)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler)
        try:
            httpd.daemon_threads = True
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            self.port = httpd.server_address[1]
            self._thread = threading.Thread(target=httpd.serve_forever, name=f"https-{self.port}",
                                            daemon=True)
            self._thread.start()
        except BaseException:
            httpd.server_close()
            raise
        self._httpd = httpd
        return self

    def __exit__(self, *exc) -> None:
        """Stops serving and closes the socket; waits a bounded time for the thread."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(SHUTDOWN_TIMEOUT_SECONDS)


@dataclass
class Release:
    """What the registry publishes for one version: its files by name and its signing keys."""

    namespace: str
    type: str
    version: str
    protocols: list[str]
    os: str
    arch: str
    zip_name: str
    sums_name: str
    signature_name: str
    # File name -> the file served for it; a test swaps entries to serve tampered files.
    files: dict[str, Path] = field(default_factory=dict)
    # ASCII-armored public keys with their key IDs, as the registry lists them.
    signing_keys: list[tuple[str, str]] = field(default_factory=list)
    # The download answer's `shasum`: by default the zip's line in the served SHA256SUMS.
    shasum: str | None = None


def published(release: ReleaseFiles, key: Keyring) -> Release:
    """What a registry publishes for a scripts/release output: its files, and `key` as the
    signing key (the one a provider's namespace registers)."""
    served = Release(
        namespace=release.namespace, type=release.type, version=release.version,
        protocols=release.protocols, os=release.os, arch=release.arch,
        zip_name=release.zip.name, sums_name=release.sums.name,
        signature_name=release.signature.name,
        signing_keys=[(key.key_id, key.public_key_armor())],
    )
    for path in (release.zip, release.manifest, release.sums, release.signature):
        if path.exists():
            served.files[path.name] = path
    return served


class Registry:
    """The provider registry protocol for one provider release, over HTTPS.

    Service discovery names the providers.v1 base path; the versions and download endpoints
    follow the protocol; the download answer points at the zip, the SHA256SUMS and its signature
    on the same server, with the signing keys inline.
    """

    API = "/v1/providers/"
    FILES = "/files/"

    def __init__(self, tls: Tls, release: Release):
        self.release = release
        self.server = HttpsServer(tls, self._respond)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def source(self) -> str:
        """The provider's source address on this registry."""
        return f"{self.host}/{self.release.namespace}/{self.release.type}"

    def __enter__(self) -> Registry:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def _respond(self, path: str) -> Body:
        r = self.release
        base = f"{self.API}{r.namespace}/{r.type}/"
        if path == "/.well-known/terraform.json":
            return {"providers.v1": self.API}
        if path == f"{base}versions":
            return {
                "versions": [
                    {"version": r.version, "protocols": r.protocols,
                     "platforms": [{"os": r.os, "arch": r.arch}]}
                ]
            }
        if path == f"{base}{r.version}/download/{r.os}/{r.arch}":
            return self._download()
        if path.startswith(self.FILES):
            name = path[len(self.FILES):]
            return r.files.get(name)
        return None

    def _download(self) -> dict | None:
        r = self.release
        if r.zip_name not in r.files:
            return None
        files = f"https://{self.host}{self.FILES}"
        return {
            "protocols": r.protocols,
            "os": r.os,
            "arch": r.arch,
            "filename": r.zip_name,
            "download_url": files + r.zip_name,
            "shasums_url": files + r.sums_name,
            "shasums_signature_url": files + r.signature_name,
            # The registry's own record of the zip's checksum, whatever file download_url serves.
            "shasum": self._published_shasum(),
            "signing_keys": {
                "gpg_public_keys": [
                    {"key_id": key_id, "ascii_armor": armor, "trust_signature": "",
                     "source": "imagecopier release tests", "source_url": None}
                    for key_id, armor in r.signing_keys
                ]
            },
        }

    def _published_shasum(self) -> str:
        if self.release.shasum is not None:
            return self.release.shasum
        sums = self.release.files[self.release.sums_name].read_text()
        for line in sums.splitlines():
            digest, _, name = line.partition("  ")
            if name == self.release.zip_name:
                return digest
        raise AssertionError(f"{self.release.zip_name} is not in {self.release.sums_name}:\n{sums}")


class StaticMirror:
    """A directory served as static files: a provider network mirror's simplest host."""

    def __init__(self, tls: Tls, root: Path):
        self.root = root.resolve()
        self.server = HttpsServer(tls, self._respond)

    @property
    def url(self) -> str:
        """The base URL for `network_mirror { url = ... }` (it must end with a slash)."""
        return f"https://{self.server.host}/"

    def __enter__(self) -> StaticMirror:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def _respond(self, path: str) -> Path | None:
        relative = posixpath.normpath(urllib.parse.unquote(path)).lstrip("/")
        if relative.startswith(".."):
            return None
        candidate = (self.root / relative).resolve()
        if self.root not in candidate.parents or not candidate.is_file():
            return None
        return candidate
