"""Automatic header detection: holdout22's Rust ``tracing`` layout (branch unseen22).

``tracing-subscriber``'s full format with thread ids (``with_thread_ids(true)``) writes
``ThreadId(NN)`` between the level and the spans, and a span with no fields by its name alone,
glued to the next (``outbound:proxy{addr=...}:``): linkerd2-proxy prints both, and so does any
Rust service that turns thread ids on. Each test has lines of the layout; the near misses keep
their header as before."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_thread_id_after_a_bare_level_is_header_with_the_spans_and_target() -> None:
    line = "[     0.003017s]  INFO ThreadId(01) linkerd2_proxy: Admin interface on 0.0.0.0:4191"
    assert content(line) == "Admin interface on 0.0.0.0:4191"
    line = (
        "[    41.208833s]  INFO ThreadId(01) inbound: linkerd_app_core::serve: Connection closed"
        " error=TLS detection timed out client.addr=10.42.3.7:51522"
    )
    assert (
        content(line)
        == "Connection closed error=TLS detection timed out client.addr=10.42.3.7:51522"
    )
    line = (
        "[     0.019127s]  INFO ThreadId(02) daemon:identity: linkerd_app: Certified identity"
        " id=web.ns.serviceaccount.identity.linkerd.cluster.local"
    )
    assert content(line) == (
        "Certified identity id=web.ns.serviceaccount.identity.linkerd.cluster.local"
    )
    # with an ISO time, as tracing-subscriber's default timer writes it
    line = "2026-12-01T10:00:01.118204Z  WARN ThreadId(07) my_service::db: pool exhausted size=16"
    assert content(line) == "pool exhausted size=16"
    # the thread id alone, a capitalised word with a colon after it opening the message
    line = "2026-12-01T10:00:01Z  INFO ThreadId(01) Starting: proxy runtime"
    assert content(line) == "Starting: proxy runtime"


def test_spans_with_no_fields_glued_to_spans_with_fields_are_header() -> None:
    line = (
        "[   312.412331s]  WARN ThreadId(01) outbound:proxy{addr=10.42.1.17:8000}:service{ns=inf"
        " name=vllm port=8000}:endpoint{addr=10.42.3.22:8000}: linkerd_reconnect: Failed to"
        " connect error=Connection refused (os error 111)"
    )
    assert content(line) == "Failed to connect error=Connection refused (os error 111)"
    line = (
        "[     0.004411s]  INFO ThreadId(02) identity:identity{server.addr=id.linkerd.svc:8080}:"
        "controller{addr=id.linkerd.svc:8080}: linkerd_pool_p2c: Adding endpoint"
        " addr=10.42.0.9:8080"
    )
    assert content(line) == "Adding endpoint addr=10.42.0.9:8080"
    # the same without thread ids
    line = "2026-12-01T10:00:01Z  INFO outbound:proxy{addr=10.0.0.1:80}: my_app::http: request done"
    assert content(line) == "request done"


def test_near_misses_keep_their_words_in_the_message() -> None:
    # no parentheses: "ThreadId" is the message's word
    line = "2026-12-01T10:00:01Z  INFO ThreadId is 7 for worker 3"
    assert content(line) == "ThreadId is 7 for worker 3"
    # a word with braces that is no span (no colon after it) stays the message's
    line = "2026-12-01T10:00:01Z  INFO config{a=1} loaded from disk"
    assert content(line) == "config{a=1} loaded from disk"
    # a name with a colon then a capitalised word (no module path after it) stays
    line = "2026-12-01T10:00:01Z  INFO inbound: Connection closed by peer"
    assert content(line) == "inbound: Connection closed by peer"


def test_structlogs_event_key_is_the_message_of_a_json_line() -> None:
    # structlog's JSONRenderer (sort_keys): the keys before "event" are header, the rest of the
    # line is the message's, as after "msg"
    line = (
        '{"action": "login", "client_ip": "10.20.3.41", "event": "Created Event", "level": '
        '"info", "pid": 45, "user": {"pk": 12}}'
    )
    assert (
        content(line) == '"event": "Created Event", "level": "info", "pid": 45, "user": {"pk": 12}}'
    )
    line = '{"event":"Starting HTTP server","level":"info","listen":"0.0.0.0:9000"}'
    assert content(line) == '"event":"Starting HTTP server","level":"info","listen":"0.0.0.0:9000"}'


def test_an_event_key_beside_a_msg_key_or_holding_no_text_is_no_message() -> None:
    # go-kit's sorted keys: "event" before "msg" is a field, "msg" is the message
    line = '{"caller":"main.go:374","event":"serviceAnnounced","level":"info","msg":"announcing"}'
    assert content(line) == '"msg":"announcing"}'
    # an "event" object is no message text: the line is not cut at it
    line = '{"event": {"type": "ADDED"}, "level": "info"}'
    assert not content(line).startswith('"event"')


def test_postgresqls_level_with_two_spaces_closes_any_log_line_prefix() -> None:
    # PostgreSQL's elog writes "LEVEL:  msg" (two spaces) after whatever log_line_prefix holds:
    # pgpool-II's default "%m: %a pid %p: ", pgBadger's "%t [%p]: [%l-1] user=%u,db=%d "
    line = "2026-12-01 10:00:01.118: main pid 2211: LOG:  Setting up socket for 0.0.0.0:9999"
    assert content(line) == "Setting up socket for 0.0.0.0:9999"
    line = "2026-12-01 10:08:16.610: psql pid 2305: DETAIL:  EOF encountered with backend"
    assert content(line) == "EOF encountered with backend"
    line = (
        "2026-12-01 10:02:27 UTC [4821]: [3-1] user=bob,db=app,app=psql,client=10.0.0.5 "
        "LOG:  duration: 12.412 ms  statement: SELECT 1"
    )
    assert content(line) == "duration: 12.412 ms  statement: SELECT 1"


def test_a_level_word_with_one_space_or_in_lower_case_is_not_postgresqls() -> None:
    # Go's log package with its source location: the header ends there as before, the level
    # word written later with one space is the message's
    line = "2026/11/29 10:00:01 worker.go:203: retry ERROR: disk full"
    assert content(line) == "retry ERROR: disk full"
    line = "2026-11-29 10:00:01 worker.go:203: retry error:  disk full"
    assert content(line) == "retry error:  disk full"
