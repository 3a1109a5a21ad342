"""Constants that name events where a label would introduce a value (branch slots22): two HTTP
methods before a request's target, and two states in capitals a transition starts from, keep
their events apart (:func:`vigil.logs._slots.event_words`, asked by
:func:`vigil.logs._cluster._cost` and :func:`vigil.logs._siblings.siblings`), although the
label before them (``request:``, ``(ens1f0):``) makes the miner take a plain word for a value;
the values such labels introduce still join (near misses)."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner, dumps, loads

from ._resolved import resolved_templates


@pytest.mark.parametrize(
    "lines",
    [
        [  # JuiceFS: an HTTP method outside quotes, before the object's path
            'slow request: GET chunks/4/4123/4123871_0_419 (req_id: "", err: <nil>, cost: 1.2s)',
            'slow request: PUT chunks/12/12418/12418_3_419 (req_id: "", err: <nil>, cost: 2.9s)',
        ],
        [  # Tinyproxy: the method after a label, its target a host or a URL
            "Request (file descriptor 12): GET http://example.com/ HTTP/1.1",
            "Request (file descriptor 14): CONNECT example.com:443 HTTP/1.1",
        ],
        [  # llama.cpp's server (the raw feed: its function prefix left in the message)
            "srv  log_server_r: request: GET /health 10.20.0.3 200",
            "srv  log_server_r: request: POST /v1/chat/completions 10.20.4.18 200",
        ],
        [  # nginx's error log: the method opens a quoted request line
            "*30353 connect() failed (111: Connection refused) while connecting to upstream,"
            ' client: 172.16.4.22, server: api.example.com, request: "POST /v1/completions'
            ' HTTP/1.1", upstream: "http://10.0.1.9:8000/v1/completions", host: "api.example.com"',
            "*272963 connect() failed (111: Connection refused) while connecting to upstream,"
            ' client: 10.0.0.2, server: api.example.com, request: "GET /metrics HTTP/1.1",'
            ' upstream: "http://10.0.2.3:9400/metrics", host: "api.example.com"',
        ],
        [  # linuxptp: the state a port leaves, its new state a state too
            "port 1 (ens1f0): INITIALIZING to LISTENING on INIT_COMPLETE",
            "port 1 (ens1f0): FAULTY to LISTENING on INIT_COMPLETE",
        ],
    ],
)
def test_methods_and_states_a_transition_leaves_keep_their_events_apart(lines: list[str]) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] != ids[1]
    for line, template in zip(lines, templates, strict=True):
        kept = next(w.lstrip('"') for w in line.split() if w.lstrip('"').isupper() and len(w) > 2)
        assert f" {kept} " in template or f' "{kept} ' in template  # the method or the state


def test_a_third_method_does_not_make_the_methods_siblings() -> None:
    lines = [f"route not found: {m} /api/v1/items" for m in ("GET", "POST", "PUT", "DELETE")]
    ids, templates = resolved_templates(lines)
    assert len(set(ids)) == 4
    assert templates == [f"route not found: {m} <*>" for m in ("GET", "POST", "PUT", "DELETE")]


def test_the_events_stay_apart_after_a_restart_from_saved_state() -> None:
    miner = TemplateMiner()
    get = miner.add("slow request: GET chunks/4/41 (cost: 1.2s)").cluster_id
    loaded = loads(dumps(miner))
    line = "slow request: PUT chunks/12/13 (cost: 2.9s)"
    assert loaded.add(line).cluster_id == miner.add(line).cluster_id != get


@pytest.mark.parametrize(
    ("lines", "template"),
    [
        # a word that is no method, before a path, after the same label: a value as before
        (
            ["job finished: alpha /data/in ok", "job finished: beta /data/in ok"],
            "job finished: <*> <*> ok",
        ),
        # a method not before a target (a word, not a path): the label's value as before
        (
            [
                "allowed methods: GET only for this route",
                "allowed methods: POST only for this route",
            ],
            "allowed methods: <*> only for this route",
        ),
        # the state a transition reaches stays a value (``changed state to``)
        (
            ["Interface eth0 changed state to UP", "Interface eth0 changed state to DOWN"],
            "Interface <*> changed state to <*>",  # the interface a value (_ifnames)
        ),
        # states in capitals before a word that is no state: the label's value as before
        (
            ["port 1 (ens1f0): FAULTY to reset now", "port 1 (ens1f0): LISTENING to reset now"],
            "port <*> (<*>): <*> to reset now",
        ),
    ],
)
def test_values_the_label_introduces_still_join(lines: list[str], template: str) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] == ids[1]
    assert templates == [template, template]


def test_event_words_are_methods_before_a_target_and_states_a_transition_leaves() -> None:
    from vigil.logs._slots import event_words

    assert event_words(["request:", "GET", "/a"], 1, "GET", "PUT")
    assert event_words(["request:", "GET", "<*>"], 1, "GET", "DELETE")
    assert event_words(["request:", "GET", "https://<*>"], 1, "GET", "POST")
    assert not event_words(["request:", "GET", "only"], 1, "GET", "POST")  # no target after it
    assert not event_words(["request:", "GET"], 1, "GET", "POST")  # nothing after it
    assert not event_words(["request:", "GET", "/a"], 1, "GET", "get")  # not as HTTP writes it
    assert not event_words(["m", "method=GET", "/a"], 1, "method=GET", "method=POST")  # a key's
    assert event_words(["(<*>):", "INIT", "to", "LISTENING"], 1, "INIT", "FAULTY")
    assert event_words(["(<*>):", "INIT", "to", "NEEDS_RESYNC."], 1, "INIT", "FAULTY")
    assert not event_words(["(<*>):", "INIT", "to", "listening"], 1, "INIT", "FAULTY")
    assert not event_words(["(<*>):", "INIT", "to"], 1, "INIT", "FAULTY")  # no end state
    assert not event_words(["(<*>):", "Init", "to", "LISTENING"], 1, "Init", "FAULTY")
