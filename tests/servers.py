"""Real servers on loopback for the tests: moto's S3 server, an HTTP proxy in front of it that
records requests (and can inject 503s and shape latency), and a small TAP server answering
pyvo's sync queries with astropy VOTables."""

from __future__ import annotations

import http.client
import io
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BUCKET = "nasa-irsa-wise"
PREFIX = "wise/neowiser/catalogs/p1bs_psd/healpix_k5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """``moto_server`` (or ``command``, given the port as its last argument) in a subprocess on
    a free loopback port."""

    def __init__(self, command: list[str] | None = None, name: str = "moto_server"):
        self.port = free_port()
        if command is None:
            command = [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p"]
        self.proc = subprocess.Popen(
            [*command, str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://{self.endpoint}/", timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.2)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            region_name="us-west-2",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def upload(self, bucket: str, files: dict[str, Path], public: bool = True) -> int:
        """Create ``bucket`` and upload ``files`` (key -> path); returns the bytes uploaded."""
        s3 = self.client()
        acl = {"ACL": "public-read"} if public else {}
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}, **acl
        )
        total = 0
        for key, path in files.items():
            with open(path, "rb") as body:
                s3.put_object(Bucket=bucket, Key=key, Body=body, **acl)
            total += path.stat().st_size
        return total

    def upload_tree(
        self,
        root: Path,
        bucket: str = BUCKET,
        prefix: str = PREFIX,
        public: bool = True,
        pattern: str = "**/*",
    ) -> int:
        """Upload every file under ``root`` matching ``pattern`` to ``bucket/prefix/...``;
        returns the file count."""
        files = {
            f"{prefix}/{path.relative_to(root).as_posix()}": path
            for path in sorted(p for p in root.glob(pattern) if p.is_file())
        }
        self.upload(bucket, files, public)
        return len(files)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 drops bursts of new connections (1 s retries)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up
            super().handle_error(request, client_address)


class _Server:
    def __init__(self, handler):
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Proxy(_Server):
    """Forwards HTTP to ``upstream`` and records every request (:attr:`requests`: method, path
    with query, Range header, status, body bytes sent).

    Optionally answers 503 SlowDown to every request that arrives within ``fail_seconds`` of
    the first one, waits ``latency_s`` before answering each request (first-byte latency), and
    sends each response body at most ``bytes_per_s`` bytes a second (per connection). With
    :attr:`close_connections` set, every connection is closed after one response (clients that
    fork with open connections, e.g. a multiprocessing pool over pyarrow's S3, then never share
    one).
    """

    def __init__(
        self,
        upstream: str,
        fail_seconds: float = 0.0,
        latency_s: float = 0.0,
        bytes_per_s: float | None = None,
    ):
        proxy = self
        self.upstream = upstream
        self.fail_seconds = fail_seconds
        self.latency_s = latency_s
        self.bytes_per_s = bytes_per_s
        self.close_connections = False
        self.first = None
        self.failed = 0
        self.forwarded = 0
        self.requests: list[dict] = []
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send_body(self, data: bytes) -> None:
                if not proxy.bytes_per_s:
                    self.wfile.write(data)
                    return
                chunk = 256 * 1024
                t0 = time.monotonic()
                for i in range(0, len(data), chunk):
                    self.wfile.write(data[i : i + chunk])
                    ahead = (i + chunk) / proxy.bytes_per_s - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    now = time.monotonic()
                    proxy.first = proxy.first or now
                    failing = now - proxy.first < proxy.fail_seconds
                    if failing:
                        proxy.failed += 1
                    else:
                        proxy.forwarded += 1
                if proxy.latency_s:
                    time.sleep(proxy.latency_s)
                if failing:
                    msg = b"<Error><Code>SlowDown</Code><Message>Slow down</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(msg)
                    self._record(503, len(msg))
                    return
                conn = http.client.HTTPConnection(*proxy.upstream.split(":"), timeout=30)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in (
                        "transfer-encoding",
                        "connection",
                        "content-length",
                        "server",
                        "date",
                    ):
                        self.send_header(k, v)
                self.send_header(
                    "Content-Length",
                    str(len(data))
                    if self.command != "HEAD"
                    else resp.getheader("Content-Length", "0"),
                )
                if proxy.close_connections:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self._send_body(data)
                conn.close()
                self._record(resp.status, len(data) if self.command != "HEAD" else 0)

            def _record(self, status: int, nbytes: int) -> None:
                with proxy.lock:
                    proxy.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "range": self.headers.get("Range"),
                            "status": status,
                            "bytes": nbytes,
                        }
                    )

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

        super().__init__(Handler)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()


class TapServer(_Server):
    """A TAP service at ``/tap``: ``POST /tap/sync`` answers ADQL ``SELECT ... FROM "table"``
    with the VOTable of ``tables[table]`` (all columns; MAXREC honoured), or an error VOTable."""

    def __init__(self, tables: dict):
        tap = self
        self.tables = tables
        self.queries: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                q = {k: v[0] for k, v in form.items()}
                tap.queries.append(q)
                if self.path.rstrip("/") != "/tap/sync":
                    self.send_error(404)
                    return
                body = tap.answer(q)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-votable+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tap"

    def answer(self, q: dict) -> bytes:
        from astropy.io.votable import from_table

        query = q.get("QUERY", "")
        table = next((t for name, t in self.tables.items() if f'FROM "{name}"' in query), None)
        if table is None:
            msg = f"Unknown table in query: {query}"
            return (
                '<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
                f'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">{msg}</INFO>'
                "</RESOURCE></VOTABLE>"
            ).encode()
        if "MAXREC" in q:
            table = table[: int(q["MAXREC"])]
        buf = io.BytesIO()
        from_table(table).to_xml(buf)
        return buf.getvalue()
