"""Response and request head rewriting (``_http_headers``), directly: the per-name kind cache
must give the same answer as the rule for every spelling, past its size bound too."""

from __future__ import annotations

from vigil.balancer._http_headers import RequestIds, rewrite_request
from vigil.balancer._http_response import rewrite_response


def _head(headers: list[tuple[bytes, bytes]], status: int = 200, reason: bytes = b"OK") -> bytes:
    """The client's head for an upstream answer with ``headers`` (keep-alive, HTTP/1.1)."""
    meta, _ = rewrite_response(
        status,
        reason,
        headers,
        no_body=False,
        client_keep_alive=True,
        client_http10=False,
        request_id=b"rid",
    )
    return meta.head


def test_hop_by_hop_names_are_dropped_in_any_case_every_time() -> None:
    for _ in range(3):  # the first pass fills the cache, the next ones read it
        for spelling in (b"Keep-Alive", b"KEEP-ALIVE", b"keep-alive", b"kEEp-aLIVE"):
            head = _head([(b"Content-Length", b"2"), (spelling, b"timeout=5")])
            assert b"timeout=5" not in head
            assert b"Content-Length: 2\r\n" in head


def test_names_past_the_cache_bound_are_still_rewritten_by_the_rule() -> None:
    many = [(b"X-Custom-%d" % i, b"v%d" % i) for i in range(600)]
    head = _head([*many, (b"Transfer-Encoding", b"chunked"), (b"TE", b"trailers")])
    assert all(b"X-Custom-%d: v%d\r\n" % (i, i) in head for i in range(600))
    assert b"TE:" not in head and head.count(b"Transfer-Encoding: chunked\r\n") == 1


def test_request_ids_count_up_under_one_random_prefix() -> None:
    ids = RequestIds()
    first, second = ids.next(), ids.next()
    assert first[:12] == second[:12] and len(first) == 22
    assert int(second[12:], 16) == int(first[12:], 16) + 1
    meta = rewrite_request(b"GET", b"/", [(b"Host", b"h")], b"10.0.0.1", b"http", ids, None)
    assert b"X-Request-Id: " + meta.request_id + b"\r\n" in meta.head
    assert int(meta.request_id[12:], 16) == int(second[12:], 16) + 1
