"""moto's S3 server with ranged GETs that read only the range.

Stock moto (5.x) answers a ranged GET by reading the whole object and slicing it: ~0.1 s per
64 KB range of a 380 MB object, which is what a benchmark would measure instead of the read
path. Here, while a GET with one ``bytes=a-b`` (or ``a-``, ``-n``) range is answered, the key's
value is a view that reads only the slice asked for from moto's own buffer; every other
request is moto's unchanged.

    python benchmarks/fast_moto.py --port 9000           # serve, patched
    python benchmarks/fast_moto.py --port 9000 --stock   # serve, as moto ships
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
import time

_state = threading.local()
_SIMPLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Slice:
    """What ``FakeKey.value`` gives inside a patched ranged GET: its length, and bytes of a
    slice read from the key's buffer on demand."""

    def __init__(self, key):
        self.key = key

    def __len__(self) -> int:
        return self.key.size

    def __bool__(self) -> bool:
        return self.key.size > 0

    def __getitem__(self, s: slice) -> bytes:
        start, stop, _ = s.indices(self.key.size)
        with self.key.lock:
            self.key._value_buffer.seek(start)
            return self.key._value_buffer.read(max(0, stop - start))

    def __bytes__(self) -> bytes:
        return self[0 : self.key.size]


def patch() -> None:
    from moto.s3 import models, responses

    value = models.FakeKey.value

    def lazy_value(self):
        if getattr(_state, "ranged", False):
            return _Slice(self)
        return value.fget(self)

    models.FakeKey.value = property(lazy_value, value.fset)
    key_response = responses.S3Response.key_response

    def patched_key_response(self, request, full_url, headers):
        rng = request.headers.get("range") or ""
        _state.ranged = request.method == "GET" and bool(_SIMPLE_RANGE.match(rng.strip()))
        try:
            status, hdrs, body = key_response(self, request, full_url, headers)
        finally:
            _state.ranged = False
        if isinstance(body, _Slice):  # a range moto answers whole (e.g. unsatisfiable)
            body = bytes(body)
        return status, hdrs, body

    responses.S3Response.key_response = patched_key_response


def serve(port: int, stock: bool = False) -> None:
    from moto.server import ThreadedMotoServer

    if not stock:
        patch()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"serving on 127.0.0.1:{port} ({'stock' if stock else 'ranged reads patched'})")
    # SIGTERM (benchmarks/servers.py's MotoServer.stop) ends it as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def main(argv=None) -> None:
    """Serve on the port named in ``argv`` until interrupted."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stock", action="store_true", help="moto as it ships (no patch)")
    args = ap.parse_args(argv)
    serve(args.port, args.stock)


if __name__ == "__main__":
    main()
