"""Header layouts found by the holdout27 round: a bracketed source location right after the time
(oauth2-proxy's ``[<date> <time>] [file.go:line] msg``, Python's ``[%(asctime)s]
[%(filename)s:%(lineno)d]``, spdlog's ``[%s:%#]``) ends the header."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_bracketed_source_location_after_the_time_is_header() -> None:
    line = '[2026/12/02 04:10:01] [proxy.go:89] mapping path "/" => upstream "http://hub:8081/"'
    assert content(line) == 'mapping path "/" => upstream "http://hub:8081/"'
    line = "[2026-12-02 04:10:01,123] [views.py:88] cache miss for key user:42"
    assert content(line) == "cache miss for key user:42"


def test_a_level_after_the_location_is_header_a_capitalised_word_is_the_message() -> None:
    line = "[2026/12/02 04:11:59] [stored_session.go:117] WARNING: Multiple cookies are required"
    assert content(line) == "Multiple cookies are required"
    line = "[2026-12-02 04:10:01] [app.py:42] INFO worker started"
    assert content(line) == "worker started"
    # "Error loading ..." opens oauth2-proxy's sentence: no level, the message's first word
    line = "[2026/12/02 04:10:43] [oauthproxy.go:967] Error loading cookied session: no cookie"
    assert content(line) == "Error loading cookied session: no cookie"


def test_a_bracketed_location_not_right_after_the_time_is_left_to_the_other_rules() -> None:
    # a bracketed word between the time and the location: the location is not the header's end
    line = "[2026-12-02 04:10:01] [worker-3] [app.py:42] done"
    assert content(line) == "[worker-3] [app.py:42] done"
