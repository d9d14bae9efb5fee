"""Real servers on loopback for the tests and the benchmarks: moto's S3 server, an HTTP proxy
in front of it that records requests (and can inject 503s and shape latency), a small TAP
server answering pyvo's sync queries with astropy VOTables, and a TAP server with asynchronous
(UWS) jobs and table uploads that answers positional joins by brute force and injects an
archive's faults.
Both TAP servers cut an answer at a row limit and say so as real services do (see
:func:`votable_answer`)."""

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
    with query, Range header, status, body bytes sent, and when it arrived and when its answer
    began: ``time.monotonic()``; recorded before the answer is sent).

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
                self.arrived = time.monotonic()
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
                    self._record(503, len(msg))
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(msg)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream.split(":"), timeout=30)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                # recorded before the answer: a client that has its answer finds it recorded
                self._record(resp.status, len(data) if self.command != "HEAD" else 0)
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

            def _record(self, status: int, nbytes: int) -> None:
                with proxy.lock:
                    proxy.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "range": self.headers.get("Range"),
                            "status": status,
                            "bytes": nbytes,
                            "arrived": self.arrived,
                            "done": time.monotonic(),
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


#: Rows a TAP server returns when the query states no MAXREC: GAVO DaCHS's stock default.
DEFAULT_MAXREC = 20_000


def row_limit(fields: dict, default_limit: int, hard_limit: int | None) -> int:
    """The rows a query may get, as TAP services decide it (TAP 1.1 2.7.4): its ``MAXREC``,
    else the service's default, and never more than the service's hard limit."""
    limit = int(fields["MAXREC"]) if "MAXREC" in fields else default_limit
    return limit if hard_limit is None else min(limit, hard_limit)


def votable_answer(table, limit: int, flag_overflow: bool = True) -> bytes:
    """``table`` as a TAP result VOTable, cut at ``limit`` rows: a ``QUERY_STATUS`` ``OK`` INFO
    before the TABLE and, when rows were cut, a ``QUERY_STATUS`` ``OVERFLOW`` INFO after it,
    inside the results RESOURCE (DALI 1.1 4.4.3; GAVO DaCHS's layout), unless
    ``flag_overflow`` is false (a service that cuts without saying so)."""
    from astropy.io.votable import from_table

    cut = len(table) > limit
    buf = io.BytesIO()
    from_table(table[:limit] if cut else table).to_xml(buf)
    xml = buf.getvalue().decode()
    xml = xml.replace("<TABLE", '<INFO name="QUERY_STATUS" value="OK"/>\n  <TABLE', 1)
    if cut and flag_overflow:
        overflow = '<INFO name="QUERY_STATUS" value="OVERFLOW">Truncated result set</INFO>'
        head, _, tail = xml.rpartition("</RESOURCE>")
        xml = f"{head} {overflow}\n </RESOURCE>{tail}"
    return xml.encode()


class TapServer(_Server):
    """A TAP service at ``/tap``: ``POST /tap/sync`` answers ADQL ``SELECT ... FROM "table"``
    with the VOTable of ``tables[table]`` (all columns), or an error VOTable. At most
    :func:`row_limit` rows (the query's ``MAXREC`` up to ``hard_limit``, ``default_limit``
    without one); a longer answer is cut there and flagged ``OVERFLOW`` (:func:`votable_answer`)."""

    def __init__(
        self, tables: dict, default_limit: int = DEFAULT_MAXREC, hard_limit: int | None = None
    ):
        tap = self
        self.tables = tables
        self.default_limit = default_limit
        self.hard_limit = hard_limit
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
        query = q.get("QUERY", "")
        table = next((t for name, t in self.tables.items() if f'FROM "{name}"' in query), None)
        if table is None:
            msg = f"Unknown table in query: {query}"
            return (
                '<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
                f'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">{msg}</INFO>'
                "</RESOURCE></VOTABLE>"
            ).encode()
        return votable_answer(table, row_limit(q, self.default_limit, self.hard_limit))


class UwsTapServer(_Server):
    """A TAP service at ``/tap`` with asynchronous jobs (UWS 1.1, as pyvo drives them) and table
    uploads, answering one query shape by brute force over ``tables``: a positional join of an
    uploaded table with a catalogue table,

        SELECT u.a, t.b, ... FROM TAP_UPLOAD.name AS u JOIN table AS t
        ON CONTAINS(POINT('ICRS', t.ra, t.dec), CIRCLE('ICRS', u.ra, u.dec, r_deg)) = 1

    (``WHERE`` for ``ON`` too). Every pair within ``r_deg`` (great circle) is a row.

    ``faults`` is consumed one entry per submitted job, for the faults a real archive shows:
    ``"submit-503"`` (the submission answered 503), ``"error"`` (the job ends in ERROR with a
    message), ``"lost"`` (the job's URL answers 404 once it runs: the service forgot it),
    ``"slow"`` (the job stays EXECUTING for ``slow_s``), ``"result-503"`` (its result answers
    503 once), ``"drop"`` (the submission's connection closed without an answer), ``"stall"``
    (the submission taken and not answered for ``slow_s``, then its connection closed),
    ``"result-drop"`` (the result's first fetch sends half the answer, then closes the
    connection), ``"result-stall"`` (that half, then silence for ``slow_s``, then closed),
    ``"document-drop"`` (every fetch of the job's document sends half of it, then closes);
    ``None`` or anything else: no fault. ``submitted`` counts submissions, ``uploads`` keeps
    each upload's row count, ``deleted`` the ids of jobs deleted.

    An answer has at most :func:`row_limit` rows (the job's ``MAXREC`` up to ``hard_limit``,
    ``default_limit`` without one); a longer one is cut there and flagged ``OVERFLOW``
    (:func:`votable_answer`; not flagged with ``flag_overflow`` false). ``maxrecs`` keeps each
    job's ``MAXREC`` (None: not sent), ``overflows`` counts the answers cut.
    """

    PHASES_DONE = ("COMPLETED", "ERROR", "ABORTED")

    def __init__(
        self,
        tables: dict,
        faults=(),
        slow_s: float = 3.0,
        run_s: float = 0.0,
        default_limit: int = DEFAULT_MAXREC,
        hard_limit: int | None = None,
        flag_overflow: bool = True,
    ):
        tap = self
        self.tables = tables
        self.default_limit = default_limit
        self.hard_limit = hard_limit
        self.flag_overflow = flag_overflow
        self.maxrecs: list[int | None] = []
        self.overflows = 0
        self.faults = list(faults)
        self.slow_s = slow_s
        self.run_s = run_s
        self.jobs: dict[str, dict] = {}
        self.submitted = 0
        self.uploads: list[int] = []
        self.deleted: list[str] = []
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", ctype="text/plain", location=None):
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _cut_reply(
                self, body: bytes, stall: bool, ctype: str = "application/x-votable+xml"
            ) -> None:
                """Headers promising ``body`` whole, then half of it; then silence for
                ``slow_s`` (``stall``) or none; then the connection closed."""
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if stall:
                    time.sleep(tap.slow_s)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def _form(self) -> tuple[dict, dict]:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("multipart/form-data"):
                    return _multipart(ctype, data)
                form = urllib.parse.parse_qs(data.decode())
                return {k: v[0] for k, v in form.items()}, {}

            def do_POST(self):
                path = urllib.parse.urlparse(self.path).path.rstrip("/")
                fields, files = self._form()
                if path == "/tap/async":
                    with tap.lock:
                        tap.submitted += 1
                        fault = tap.faults.pop(0) if tap.faults else None
                    if fault == "submit-503":
                        return self._reply(503, b"Service Unavailable: try again later")
                    if fault == "stall":
                        time.sleep(tap.slow_s)
                    if fault in ("drop", "stall"):
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return None
                    job = tap.create_job(fields, files, fault)
                    return self._reply(303, location=tap.job_url(job["id"]))
                parts = path.split("/")
                if len(parts) == 5 and parts[:3] == ["", "tap", "async"] and parts[4] == "phase":
                    job = tap.jobs.get(parts[3])
                    if job is None:
                        return self._reply(404, b"no such job")
                    if fields.get("PHASE", "").upper() == "RUN" and job["phase"] == "PENDING":
                        tap.start(job)
                    elif fields.get("PHASE", "").upper() == "ABORT":
                        job["phase"] = "ABORTED"
                    return self._reply(303, location=tap.job_url(job["id"]))
                return self._reply(404, b"not found")

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                parts = url.path.rstrip("/").split("/")
                if len(parts) < 4 or parts[:3] != ["", "tap", "async"]:
                    return self._reply(404, b"not found")
                job = tap.jobs.get(parts[3])
                if job is None or (job["fault"] == "lost" and job["phase"] != "PENDING"):
                    return self._reply(404, b"no such job")
                if len(parts) == 4 and job["fault"] == "document-drop":
                    return self._cut_reply(tap.job_xml(job), stall=False, ctype="text/xml")
                if len(parts) == 4:
                    wait = urllib.parse.parse_qs(url.query).get("WAIT")
                    if wait:
                        tap.wait(job, min(float(wait[0]), 2.0))
                    return self._reply(200, tap.job_xml(job), "text/xml")
                if parts[4:] == ["results", "result"] and tap.phase(job) == "COMPLETED":
                    if job["fault"] == "result-503" and not job.get("refused"):
                        job["refused"] = True
                        return self._reply(503, b"Service Unavailable")
                    if job["fault"] in ("result-stall", "result-drop") and not job.get("cut"):
                        job["cut"] = True
                        return self._cut_reply(job["result"], stall=job["fault"] == "result-stall")
                    return self._reply(200, job["result"], "application/x-votable+xml")
                return self._reply(404, b"not found")

            def do_DELETE(self):
                parts = urllib.parse.urlparse(self.path).path.rstrip("/").split("/")
                if len(parts) == 4 and tap.jobs.pop(parts[3], None) is not None:
                    tap.deleted.append(parts[3])
                    return self._reply(303, location=f"{tap.url}/async")
                return self._reply(404, b"no such job")

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tap"

    def job_url(self, job_id: str) -> str:
        return f"{self.url}/async/{job_id}"

    def create_job(self, fields: dict, files: dict, fault) -> dict:
        with self.lock:
            job_id = f"j{len(self.jobs) + len(self.deleted) + 1}x{self.submitted}"
            job = {"id": job_id, "phase": "PENDING", "fields": fields, "files": files}
            job.update(fault=fault, started=None, result=None, error=None)
            self.jobs[job_id] = job
        return job

    def start(self, job: dict) -> None:
        job["phase"] = "EXECUTING"
        job["started"] = time.monotonic()
        try:
            job["result"] = self.answer(job["fields"], job["files"])
        except ValueError as exc:
            job["error"] = str(exc)
        if job["fault"] == "error":
            job["error"] = "Query execution failed: simulated archive fault (ORA-01013)"

    def phase(self, job: dict) -> str:
        if job["phase"] == "EXECUTING":
            delay = self.slow_s if job["fault"] == "slow" else self.run_s
            if time.monotonic() - job["started"] >= delay:
                job["phase"] = "ERROR" if job["error"] else "COMPLETED"
        return job["phase"]

    def wait(self, job: dict, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.phase(job) in ("EXECUTING", "QUEUED") and time.monotonic() < end:
            time.sleep(0.05)

    def job_xml(self, job: dict) -> bytes:
        from xml.sax.saxutils import escape

        phase = self.phase(job)
        results = error = ""
        if phase == "COMPLETED":
            results = (
                f'<uws:results><uws:result id="result" '
                f'xlink:href="{self.job_url(job["id"])}/results/result"/></uws:results>'
            )
        if phase == "ERROR":
            error = (
                '<uws:errorSummary type="fatal" hasDetail="false">'
                f"<uws:message>{escape(job['error'])}</uws:message></uws:errorSummary>"
            )
        query = escape(job["fields"].get("QUERY", ""))
        return (
            '<?xml version="1.0"?>'
            '<uws:job xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1">'
            f'<uws:jobId>{job["id"]}</uws:jobId><uws:ownerId xsi:nil="true"/>'
            f"<uws:phase>{phase}</uws:phase>"
            '<uws:quote xsi:nil="true"/><uws:creationTime>2026-01-01T00:00:00Z</uws:creationTime>'
            '<uws:startTime xsi:nil="true"/><uws:endTime xsi:nil="true"/>'
            "<uws:executionDuration>3600</uws:executionDuration>"
            '<uws:destruction xsi:nil="true"/>'
            f'<uws:parameters><uws:parameter id="query">{query}</uws:parameter></uws:parameters>'
            f"{results}{error}</uws:job>"
        ).encode()

    def answer(self, fields: dict, files: dict) -> bytes:
        """The VOTable answering a positional join (see the class), by brute force."""
        import re

        import numpy as np
        from astropy.io.votable import parse_single_table
        from astropy.table import Table

        query = " ".join(fields.get("QUERY", "").split())
        m = re.fullmatch(
            r"SELECT (?P<cols>.+?) FROM TAP_UPLOAD\.(?P<up>\w+) AS (?P<ua>\w+) JOIN (?P<table>\w+)"
            r" AS (?P<ta>\w+) (?:ON|WHERE) CONTAINS\(POINT\('ICRS', ?(?P=ta)\.ra, ?(?P=ta)\.dec\),"
            r" ?CIRCLE\('ICRS', ?(?P=ua)\.ra, ?(?P=ua)\.dec, ?(?P<r>[-+0-9.eE]+)\)\) ?= ?1",
            query,
            flags=re.IGNORECASE,
        )
        if m is None:
            raise ValueError(f"cannot parse query: {query}")
        if m["table"] not in self.tables:
            raise ValueError(f"Table '{m['table']}' does not exist")
        params = dict(p.split(",", 1) for p in fields.get("UPLOAD", "").split(";") if p)
        ref = params.get(m["up"], "")
        if not ref.startswith("param:") or ref[6:] not in files:
            raise ValueError(f"upload {m['up']!r} missing")
        upload = parse_single_table(io.BytesIO(files[ref[6:]])).to_table()
        self.uploads.append(len(upload))
        cat = self.tables[m["table"]]

        def vec(ra, dec):
            ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
            return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], 1)

        cos_r = np.cos(np.radians(float(m["r"])))
        dots = vec(upload["ra"], upload["dec"]) @ vec(cat["ra"], cat["dec"]).T
        ui, ci = np.nonzero(dots >= cos_r)
        out = Table()
        for col in (c.strip() for c in m["cols"].split(",")):
            alias, _, name = col.partition(".")
            src, rows = (upload, ui) if alias == m["ua"] else (cat, ci)
            if alias not in (m["ua"], m["ta"]) or name not in src.colnames:
                raise ValueError(f"Column '{col}' not found")
            out[name] = src[name][rows]
        limit = row_limit(fields, self.default_limit, self.hard_limit)
        with self.lock:
            self.maxrecs.append(int(fields["MAXREC"]) if "MAXREC" in fields else None)
            self.overflows += len(out) > limit
        return votable_answer(out, limit, self.flag_overflow)


def _multipart(content_type: str, data: bytes) -> tuple[dict, dict]:
    """Form fields and files of a multipart/form-data body."""
    from email.parser import BytesParser
    from email.policy import HTTP

    msg = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + data
    )
    fields, files = {}, {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode()
    return fields, files
