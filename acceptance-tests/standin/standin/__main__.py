"""`python -m standin --host 127.0.0.1 --port 0 [--port-file PATH] [--strict]`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from email.utils import formatdate

from werkzeug.serving import make_server

from . import options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the port here once serving")
    options.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.host != "127.0.0.1":
        # The stand-in accepts any credentials, so it must never be reachable off-host.
        parser.error("only 127.0.0.1 is supported")

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from . import build_app, state

    class Handler(MotoRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            """Every answer's Date header (the service's time, as SDKs read it) on the stand-in's
            clock, which POST /_standin/clock moves: a client that ages resources by the service's
            time (scripts/sweep-live) sees that time pass. Unmoved, it is real time."""
            if timestamp is None:
                timestamp = state.wall_now().timestamp()
            return formatdate(timestamp, usegmt=True)

    server = make_server(
        args.host, args.port, build_app(options.from_args(args)), threaded=True,
        request_handler=Handler
    )
    port = server.server_address[1]

    def stop(signum, frame):  # noqa: ARG001
        # shutdown() blocks until serve_forever returns, so run it off the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.port_file:
        # Write then rename, so a reader never sees a half-written port number.
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"standin listening on http://{args.host}:{port}", flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
