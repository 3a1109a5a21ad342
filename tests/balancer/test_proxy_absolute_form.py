"""Absolute-form request targets on the wire (RFC 9112 §3.2.2, §3.2.4): ``GET http://a/b``
goes upstream in origin form (``GET /b``) with the Host replaced by the target's authority
(whatever Host the client sent); an ``OPTIONS`` without a path goes as ``OPTIONS *``; a target
the proxy cannot read as ``http(s)://authority[/path][?query]`` (userinfo, another scheme, no
host, a bad port) is answered 400 and never forwarded.
"""

from __future__ import annotations

import pytest

from ._upstreams import through_one_upstream


@pytest.mark.parametrize(
    ("target", "host_line", "path", "host"),
    [
        (b"http://model.example/v1/x?q=1", b"Host: other\r\n", "/v1/x?q=1", "model.example"),
        (
            b"http://model.example:8080/a",
            b"Host: model.example:8080\r\n",
            "/a",
            "model.example:8080",
        ),
        (b"HTTPS://[::1]:9/", b"Host: h\r\n", "/", "[::1]:9"),
        (b"http://m.example", b"Host: h\r\n", "/", "m.example"),
        (b"http://m.example?x=y", b"Host: h\r\n", "/?x=y", "m.example"),
        (b"http://m.example/a?b#frag", b"Host: h\r\n", "/a?b", "m.example"),
    ],
    ids=["path-query", "port", "ipv6-https", "empty-path", "query-only", "fragment"],
)
async def test_an_absolute_form_target_goes_upstream_in_origin_form_with_its_host(
    target: bytes, host_line: bytes, path: str, host: str
) -> None:
    resp, up = await through_one_upstream(b"GET %s HTTP/1.1\r\n%s\r\n" % (target, host_line))
    assert (resp.status, resp.body) == (200, b"up")
    (req,) = up.requests
    assert req.path == path
    assert [v for k, v in req.raw_headers if k.lower() == "host"] == [host]


async def test_an_absolute_form_options_without_a_path_goes_upstream_as_asterisk() -> None:
    # RFC 9112 §3.2.4: the last proxy forwards "OPTIONS http://h HTTP/1.1" as "OPTIONS *"
    resp, up = await through_one_upstream(b"OPTIONS http://h.example HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp.status == 200
    (req,) = up.requests
    assert (req.method, req.path, req.headers["host"]) == ("OPTIONS", "*", "h.example")


@pytest.mark.parametrize(
    "target",
    [
        b"http://user:pw@h.example/",  # userinfo (RFC 9110 §4.2.4: an error)
        b"ftp://h.example/",
        b"http:///nohost",
        b"http://h.example:80x/",
        b"http://h ex/",
        b"h.example/x",
        b"*",  # the asterisk form is for OPTIONS only (RFC 9112 §3.2.4)
    ],
    ids=["userinfo", "scheme", "no-authority", "bad-port", "space", "no-scheme", "asterisk"],
)
async def test_a_target_neither_origin_nor_absolute_form_is_answered_400(target: bytes) -> None:
    resp, up = await through_one_upstream(b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % target)
    assert resp.status == 400
    assert up.requests == []


async def test_an_http10_absolute_form_request_without_host_gets_the_targets_authority() -> None:
    resp, up = await through_one_upstream(b"GET http://m.example:81/z HTTP/1.0\r\n\r\n")
    assert (resp.status, resp.body) == (200, b"up")
    (req,) = up.requests
    assert (req.path, [v for k, v in req.raw_headers if k.lower() == "host"]) == (
        "/z",
        ["m.example:81"],
    )


async def test_a_fragment_in_an_origin_form_target_is_not_forwarded() -> None:
    # RFC 9112 §3.2: a request target has no fragment; the absolute form's was already cut
    response, up = await through_one_upstream(
        b"GET /v1/models?x=1#frag HTTP/1.1\r\nHost: svc\r\nUser-Agent: t\r\n\r\n"
    )
    assert response.status == 200
    (request,) = up.requests
    assert request.path == "/v1/models?x=1"
