"""`python -m kubesim --host 127.0.0.1 --port 6443 [--tls-port 6444] [--state FILE]`.

The admin API and every cluster's API are served over HTTP on --port and over HTTPS on
--tls-port (default: --port + 1); kubeconfigs point at the HTTPS listener because kubectl
only sends bearer tokens over TLS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from kubesim.apiserver.hub import Hub
from kubesim.server import make_hub, start_sites
from kubesim.storage.state import StateError

EXIT_BAD_STATE = 2


async def serve(hub: Hub, host: str, port: int, tls_port: int) -> None:
    runner, bound, bound_tls = await start_sites(hub, host, port, tls_port, shutdown_timeout=2)
    print(
        f"kubesim listening on http://{host}:{bound} and https://{host}:{bound_tls} "
        f"({len(hub.clusters)} clusters loaded)",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # runs Hub.shutdown: final state write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubesim", description="Sandbox Kubernetes API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6443, help="HTTP port (admin and clusters)")
    parser.add_argument("--tls-port", type=int, help="HTTPS port (default: --port + 1)")
    parser.add_argument("--state", help="persist clusters and objects in this JSON file")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--time-factor",
        type=float,
        default=1.0,
        help="simulated seconds per real second in every cluster (0 freezes time)",
    )
    args = parser.parse_args(argv)
    if args.time_factor < 0:
        parser.error("--time-factor must be >= 0")
    from kubesim.storage import clock

    clock.DEFAULT_FACTOR = args.time_factor
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        hub = make_hub(state_path=args.state)
    except StateError as exc:
        print(f"kubesim: {exc}", file=sys.stderr)
        return EXIT_BAD_STATE
    tls_port = args.tls_port
    if tls_port is None:
        tls_port = args.port + 1 if args.port else 0  # with --port 0 both are picked free
    asyncio.run(serve(hub, args.host, args.port, tls_port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
