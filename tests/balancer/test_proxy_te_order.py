"""An upstream that applies chunked before another transfer coding, on the wire (RFC 9112
§6.1: chunked is applied at most once, and last when the message is not close-delimited): the
proxy answers 502, to an HTTP/1.1 client as to an HTTP/1.0 one, and never frames the body in
chunked a second time (``chunked, gzip, chunked``). A coding applied before chunked still
reaches an HTTP/1.1 client as it is, chunked once.
"""

from __future__ import annotations

import gzip

import pytest

from vigil.balancer._http_raw import response_head
from vigil.balancer._http_response import rewrite_response
from vigil.balancer._upstream import Outcome

from .test_proxy_http10 import _answering, _get10

TEXT = b"hello, world " * 50
CHUNKED_TEXT = b"%x\r\n%s\r\n0\r\n\r\n" % (len(TEXT), TEXT)

GET11 = b"GET / HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"
GET10 = b"GET / HTTP/1.0\r\nHost: s\r\n\r\n"


@pytest.mark.parametrize("request_bytes", [GET11, GET10], ids=["http11", "http10"])
@pytest.mark.parametrize(
    ("codings", "body"),
    [
        (b"chunked, gzip", gzip.compress(CHUNKED_TEXT)),
        (b"chunked, chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(CHUNKED_TEXT), CHUNKED_TEXT)),
        (
            b"chunked, gzip, chunked",
            b"%x\r\n%s\r\n0\r\n\r\n"
            % (len(gzip.compress(CHUNKED_TEXT)), gzip.compress(CHUNKED_TEXT)),
        ),
    ],
    ids=["chunked-gzip", "chunked-chunked", "chunked-gzip-chunked"],
)
async def test_chunked_applied_before_another_coding_is_answered_502(
    codings: bytes, body: bytes, request_bytes: bytes
) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n" % codings
    line, headers, rest, router = await _get10(_answering(head, body, chunked=False), request_bytes)
    assert line.startswith("HTTP/1.1 502"), (line, headers)
    assert "transfer-encoding" not in headers
    assert b"chunked" in rest  # the 502 says why
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


@pytest.mark.parametrize(
    ("codings", "chunked"),
    [(b"gzip, chunked", True), (b"gzip", False)],
    ids=["gzip-then-chunked", "gzip-to-the-close"],
)
async def test_gzip_reaches_an_http11_client_as_gzip_then_chunked_once(
    codings: bytes, chunked: bool
) -> None:
    """A coding before chunked passes as it is; gzip to the close is chunked by the proxy."""
    packed = gzip.compress(TEXT)
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n" % codings
    line, headers, rest, router = await _get10(_answering(head, packed, chunked=chunked), GET11)
    assert line.startswith("HTTP/1.1 200")
    assert headers["transfer-encoding"] == "gzip, chunked"
    assert rest.endswith(b"0\r\n\r\n")
    assert router.outcomes() == [("a", Outcome.OK)]


@pytest.mark.parametrize("http10", [False, True], ids=["http11", "http10"])
@pytest.mark.parametrize("name", [b"Transfer-Encoding", b"transfer-encoding"])
def test_both_head_paths_refuse_chunked_before_another_coding(http10: bool, name: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\n%s: chunked, gzip\r\nServer: x\r\n\r\n" % name
    kwargs = {"no_body": False, "client_keep_alive": True, "client_http10": http10}
    with pytest.raises(ValueError, match="chunked before another coding"):
        response_head(200, head, request_id=b"id", **kwargs)
    with pytest.raises(ValueError, match="chunked before another coding"):
        rewrite_response(200, b"OK", [(name, b"chunked, gzip")], request_id=b"id", **kwargs)
