"""The agent's own HTTP client against real servers: keep-alive, framing, timeouts, TLS, threads."""

from __future__ import annotations

import asyncio
import select
import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from vigil._agent_http import AgentHttp, HttpError, agent_client, plain_url, proxied

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one request, read by its Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


class Server:
    """A real server on 127.0.0.1 whose answer to each request is ``answer(n)`` (raw bytes, or
    None to close the connection); counts connections and keeps the requests."""

    def __init__(self, answer: Callable[[int], bytes | None]) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.close_after: set[int] = set()
        """Requests after whose answer the connection is closed (keep-alive said)."""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                self.requests.append(await _read_request(reader))
                raw = self.answer(len(self.requests))
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if len(self.requests) in self.close_after or b"Connection: close" in raw:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client left, or the test is over
        writer.close()


def ok(body: bytes = b'{"interval": 1}', extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def _start(server: Server, tls: ssl.SSLContext | None = None) -> tuple[asyncio.Server, str]:
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    return listener, f"{'https' if tls else 'http'}://127.0.0.1:{port}/api/v1/heartbeats"


async def test_posts_reuse_one_keep_alive_connection_and_send_the_body_as_given() -> None:
    server = Server(lambda n: ok())
    listener, url = await _start(server)
    async with listener, AgentHttp() as http:
        for i in range(3):
            answer = await http.post(
                url, content=b"x" * i, headers={"Authorization": "Bearer t"}, timeout=5
            )
            assert answer.status_code == 200
            assert answer.json() == {"interval": 1}
        sent = await http.post(url, json={"a": "é", "b": [1.5]}, timeout=5)
    assert sent.status_code == 200
    assert server.connections == 1
    assert [body for _, body in server.requests] == [
        b"",
        b"x",
        b"xx",
        '{"a":"é","b":[1.5]}'.encode(),
    ]
    head = server.requests[0][0].decode()
    assert head.startswith("POST /api/v1/heartbeats HTTP/1.1\r\n")
    assert "authorization: Bearer t\r\n" in head
    assert f"host: 127.0.0.1:{url.split(':')[2].split('/')[0]}\r\n" in head
    assert "content-type: application/json" in server.requests[3][0].decode()


async def test_a_chunked_answer_and_one_closed_by_the_server_are_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nbusy,\r\n6;ext=1\r\n retry\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    till_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<html>nginx</html>"
    answers = {1: chunked, 2: till_close}
    server = Server(lambda n: answers.get(n, ok()))
    listener, url = await _start(server)
    async with listener, AgentHttp() as http:
        first = await http.post(url, content=b"{}", timeout=5)
        second = await http.post(url, content=b"{}", timeout=5)
        third = await http.post(url, content=b"{}", timeout=5)
    assert (first.status_code, first.text) == (503, "busy, retry")
    assert (second.status_code, second.text) == (200, "<html>nginx</html>")
    with pytest.raises(ValueError):  # as httpx's: the agent reads it as "not a controller"
        second.json()
    assert third.json() == {"interval": 1}
    assert server.connections == 2  # the closed one was not reused


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    # uvicorn closes a keep-alive connection idle for 5 s, the agent's log-shipping period
    server = Server(lambda n: ok())
    server.close_after = {1}
    listener, url = await _start(server)
    async with listener, AgentHttp() as http:
        await http.post(url, content=b"1", timeout=5)
        (idle,) = http._idle[("http", "127.0.0.1", int(url.split(":")[2].split("/")[0]))]
        for _ in range(500):  # until this end has seen the server's FIN (no timing asserted)
            if select.select([idle.sock], [], [], 0)[0]:
                break
            await asyncio.sleep(0.01)
        assert (await http.post(url, content=b"2", timeout=5)).status_code == 200
    assert server.connections == 2


async def test_no_answer_at_all_is_an_error_and_not_retried() -> None:
    server = Server(lambda n: None)  # reads the request, closes without a word
    listener, url = await _start(server)
    async with listener, AgentHttp() as http:
        with pytest.raises(HttpError, match="closed the connection"):
            await http.post(url, content=b"1", timeout=5)
    assert len(server.requests) == 1


async def test_no_answer_within_the_timeout_is_an_error_naming_it() -> None:
    server = Server(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{")  # then silence
    listener, url = await _start(server)
    async with listener, AgentHttp() as http:
        with pytest.raises(HttpError, match=r"no answer within 0\.2s"):
            await http.post(url, content=b"{}", timeout=0.2)


async def test_nothing_listening_an_endless_answer_and_a_bad_header_are_errors() -> None:
    async with AgentHttp() as http:
        with pytest.raises(HttpError, match=r"cannot connect to 127\.0\.0\.1:9"):
            await http.post("http://127.0.0.1:9/x", content=b"", timeout=5)
        with pytest.raises(HttpError, match="line break"):
            await http.post("http://127.0.0.1:9/x", headers={"X": "a\r\nB: c"}, timeout=5)
        server = Server(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n")
        listener, url = await _start(server)
        async with listener:
            with pytest.raises(HttpError, match="at most"):
                await http.post(url, content=b"", timeout=5)
        not_http = Server(lambda n: b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        listener, url = await _start(not_http)
        async with listener:
            with pytest.raises(HttpError, match="not an HTTP"):
                await http.post(url, content=b"", timeout=5)


@pytest.fixture
def tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for 127.0.0.1: the server's context and the CA file."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


async def test_https_is_verified_against_ssl_cert_file_or_certifi(
    tls_pair: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    context, cert = tls_pair
    server = Server(lambda n: ok())
    listener, url = await _start(server, tls=context)
    async with listener:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        async with AgentHttp() as http:  # certifi's bundle: a self-signed cert is refused
            with pytest.raises(HttpError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.post(url, content=b"{}", timeout=5)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        async with AgentHttp() as http:
            assert (await http.post(url, content=b"{}", timeout=5)).status_code == 200
            assert (await http.post(url, content=b"{}", timeout=5)).status_code == 200
    assert server.connections == 1  # kept alive for both posts (the refused one never served)


async def test_behind_a_proxy_the_agent_keeps_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx honoured HTTP(S)_PROXY for the agent; this client does not speak to proxies
    assert proxied({"HTTPS_PROXY": "http://proxy:3128"})
    assert proxied({"all_proxy": "socks5://proxy"})
    assert not proxied({"NO_PROXY": "*", "HTTP_PROXY": ""})
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    async with agent_client() as plain:
        assert isinstance(plain, AgentHttp)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    async with agent_client() as behind:
        assert isinstance(behind, httpx.AsyncClient)


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("http://127.0.0.1:8700", True),
        ("https://ctl.example.com/", True),
        ("http://[::1]:8700", True),
        ("http://[::1", False),  # then httpx names the problem, as before
        ("http://ctl:99999", False),
        ("http://ctl:port", False),
        ("ftp://ctl", False),
        ("http://", False),
        ("http://a b", False),
        ("http://bücher.de", False),  # an IDNA name: httpx checks it
        ("http://-ctl", False),
    ],
)
def test_the_agents_controller_url_is_checked_without_httpx_when_plain(
    url: str, plain: bool
) -> None:
    assert plain_url(url) is plain


async def test_an_answer_ended_by_closing_is_read_to_its_end_in_pieces() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"a" * 1000)
        await writer.drain()
        await asyncio.sleep(0.1)  # the client has read the first piece by now, mostly
        writer.write(b"b" * 1000)
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener, AgentHttp() as http:
        answer = await http.post(f"http://127.0.0.1:{port}/", content=b"{}", timeout=5)
    assert answer.content == b"a" * 1000 + b"b" * 1000


async def test_a_url_that_cannot_be_split_is_an_error_not_a_crash() -> None:
    async with AgentHttp() as http:
        with pytest.raises(HttpError, match="bad URL"):
            await http.post("http://[::1/x", content=b"", timeout=5)


async def test_a_post_to_a_slow_server_leaves_the_event_loop_running() -> None:
    # http.client blocks: the request runs in a worker thread, the loop goes on meanwhile.
    # The server answers only after another coroutine has run five rounds of the loop.
    request_seen, ticked = asyncio.Event(), asyncio.Event()

    async def tick() -> None:
        await request_seen.wait()
        for _ in range(5):
            await asyncio.sleep(0.01)
        ticked.set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        request_seen.set()
        await ticked.wait()
        writer.write(ok())
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    ticker = asyncio.create_task(tick())
    async with listener, AgentHttp() as http:
        answer = await http.post(f"http://127.0.0.1:{port}/", content=b"{}", timeout=10)
    assert answer.status_code == 200
    assert ticker.done()


async def test_a_heartbeat_does_not_wait_behind_a_slow_log_batch() -> None:
    # The log batch's answer is held until the heartbeat has its own: with one thread for
    # both, the heartbeat would wait for the batch, and the batch would time out.
    batch_seen, beat_answered = asyncio.Event(), asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head, _ = await _read_request(reader)
                if head.startswith(b"POST /api/v1/logs/batches "):
                    batch_seen.set()
                    await beat_answered.wait()
                writer.write(ok())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/api/v1"
    async with listener, AgentHttp() as http:
        batch = asyncio.create_task(http.post(f"{base}/logs/batches", content=b"{}", timeout=10))
        await batch_seen.wait()
        beat = await http.post(f"{base}/heartbeats", content=b"{}", timeout=10)
        beat_answered.set()
        assert beat.status_code == 200
        assert (await batch).status_code == 200


@pytest.mark.parametrize(
    "sent",
    [b"", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"],  # nothing; a body ended by closing
    ids=["no-answer", "answer-till-close"],
)
async def test_closing_the_client_ends_a_request_in_flight(sent: bytes) -> None:
    # The agent stopping cancels a log batch waiting on a silent controller; its thread must
    # not hold the interpreter's exit for the request's timeout (600 s here).
    seen, ended = asyncio.Event(), asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(sent)
        await writer.drain()
        seen.set()
        await reader.read()  # until the client's end is shut
        ended.set()
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        http = AgentHttp()
        post = asyncio.create_task(http.post(f"http://127.0.0.1:{port}/", timeout=600))
        await seen.wait()
        post.cancel()
        await http.aclose()
        await ended.wait()  # without the shutdown, pytest-timeout (120 s) fails the test here
        await asyncio.to_thread(http._threads.shutdown, wait=True)  # the thread has ended
    with pytest.raises(asyncio.CancelledError):
        await post


async def test_100_continue_is_skipped_and_another_interim_answer_is_an_error() -> None:
    # http.client skips 100 Continue; a 103 would be taken for the answer, its real one left
    # on the connection for the next request: an error, and the connection is not reused
    answers = {
        1: b"HTTP/1.1 100 Continue\r\n\r\n" + ok(),
        2: b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok(b'{"interval": 2}'),
    }
    server = Server(lambda n: answers.get(n, ok(b'{"interval": 3}')))
    listener, url = await _start(server)
    async with listener, AgentHttp() as http:
        assert (await http.post(url, content=b"{}", timeout=5)).json() == {"interval": 1}
        with pytest.raises(HttpError, match=r"interim answer \(HTTP 103\)"):
            await http.post(url, content=b"{}", timeout=5)
        assert (await http.post(url, content=b"{}", timeout=5)).json() == {"interval": 3}
    assert server.connections == 2
