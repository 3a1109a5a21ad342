"""A small fake model server for the demo, tests and benchmarks.

``python -m vigil.demo.model_server --port N`` answers like an inference server: ``POST
/v1/completions`` after a realistic, heavy-tailed latency (log-normal, median ~40 ms),
``GET /healthz`` (liveness) at once, ``GET /ready`` (readiness) once the "model" has loaded
(``--load-time`` seconds). ``--fail-if-exists PATH`` makes it exit 1 at start while PATH exists:
the demo's fault injector uses it to cause a crash loop. Plain asyncio, standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import sys
import time

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024


class ModelServer:
    def __init__(self, load_time: float, latency_ms: float, rng: random.Random) -> None:
        self.loaded_at = time.monotonic() + load_time
        self.latency_ms = latency_ms
        self.rng = rng
        self.served = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEADER_BYTES:
                    await self._send(writer, 431, {"error": "headers too large"}, close=True)
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    await self._send(writer, 400, {"error": "bad request line"}, close=True)
                    return
                method, path, _ = parts
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length", "0") or 0)
                if length > MAX_BODY_BYTES:
                    await self._send(writer, 413, {"error": "body too large"}, close=True)
                    return
                body = await reader.readexactly(length) if length else b""
                close = headers.get("connection", "").lower() == "close"
                status, payload = await self.route(method, path, body)
                await self._send(writer, status, payload, close=close)
                if close:
                    return
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            ValueError,
        ):
            pass
        finally:
            writer.close()

    async def route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        if path == "/healthz":
            return 200, {"status": "ok"}
        if path == "/ready":
            ready = time.monotonic() >= self.loaded_at
            return (200, {"status": "ready"}) if ready else (503, {"status": "loading"})
        if path == "/v1/completions" and method == "POST":
            if time.monotonic() < self.loaded_at:
                return 503, {"error": "model loading"}
            try:
                prompt = str(json.loads(body or b"{}").get("prompt", ""))
            except (ValueError, AttributeError):
                return 400, {"error": "body must be a JSON object"}
            # Log-normal service time: most requests near the median, a heavy tail like real
            # token generation (sigma 0.5 puts p99 at ~3.2x the median).
            delay = self.latency_ms / 1000 * math.exp(self.rng.gauss(0, 0.5))
            await asyncio.sleep(delay)
            self.served += 1
            tokens = max(1, len(prompt.split()))
            return 200, {
                "id": f"cmpl-{self.served}",
                "object": "text_completion",
                "choices": [{"text": " ok" * min(tokens, 16), "index": 0}],
                "usage": {"prompt_tokens": tokens, "completion_tokens": tokens},
                "pid": os.getpid(),
            }
        return 404, {"error": f"no route for {method} {path}"}

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: dict[str, object], *, close: bool
    ) -> None:
        body = json.dumps(payload).encode()
        reason = {
            200: "OK",
            400: "Bad Request",
            404: "Not Found",
            413: "Payload Too Large",
            431: "Request Header Fields Too Large",
            503: "Service Unavailable",
        }[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()


async def serve(port: int, host: str, load_time: float, latency_ms: float) -> None:
    server_state = ModelServer(load_time, latency_ms, random.Random())
    server = await asyncio.start_server(server_state.handle, host, port, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(f"model server pid {os.getpid()} listening on {host}:{port}\n")
    sys.stdout.flush()
    async with server:
        await stop.wait()
    sys.stdout.write("model server stopping\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--load-time", type=float, default=0.3, help="seconds before /ready answers 200"
    )
    parser.add_argument("--latency-ms", type=float, default=40.0, help="median latency")
    parser.add_argument(
        "--fail-if-exists", default=None, help="exit 1 at start while this file exists"
    )
    args = parser.parse_args(argv)
    if args.fail_if_exists and os.path.exists(args.fail_if_exists):
        sys.stderr.write(
            f"fatal: {args.fail_if_exists} exists (injected fault): CUDA error: "
            "an illegal memory access was encountered\n"
        )
        return 1
    asyncio.run(serve(args.port, args.host, args.load_time, args.latency_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
