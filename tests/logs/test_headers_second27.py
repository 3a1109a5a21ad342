"""Automatic header detection: a second header after the first (branch headers27).

Python's ``logging`` formats, tornado and Ray put a writer's fields after the time and level that
the first header rules cut: a component with its ids closed by a lone ``--`` (Ray Serve), a
logger's name right before an upper-case level (``%(name)s %(levelname)s``: KServe, LMCache), a
bracketed ``file.py:func():line`` after the level, a bracketed time after a level with its colon
(Chroma), tornado's level bracket holding a logger and a ``module:line`` (JupyterHub). Each test
holds lines of the layout (they fail on main's code) and near misses, messages that open with
the same words and keep them."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_component_and_its_ids_closed_by_a_double_dash_are_header() -> None:
    line = (
        "INFO 2026-12-01 10:00:01,118 controller 48300 -- proxy_state.py:448 - Starting proxy"
        " on node 7c9e1b listening on 0.0.0.0:8000."
    )
    assert content(line) == "Starting proxy on node 7c9e1b listening on 0.0.0.0:8000."
    line = "INFO 2026-12-01 10:00:02,204 proxy 10.0.4.17 -- proxy.py:1156 - Proxy starting"
    assert content(line) == "Proxy starting"
    line = (
        "INFO 2026-12-01 10:02:01,408 llm_LLMServer 3f9ax2k1 a1b2c3d4-e5f6-4718-9a3b-4c5d6e7f8091"
        " -- CALL create_chat_completion OK 4127.5ms"
    )
    assert content(line) == "CALL create_chat_completion OK 4127.5ms"
    # an id with no digits shape of its own, a source location after the dashes tells it
    line = "WARNING 2026-12-01 10:02:01,408 llm_LLMRouter k2x9p4mq -- replica.py:12 - slow"
    assert content(line) == "slow"


def test_words_before_a_double_dash_in_a_message_are_kept() -> None:
    assert content("INFO 2026-12-01 10:02:01,408 Step 3021 -- done") == "Step 3021 -- done"
    line = "INFO 2026-12-01 10:02:01,408 retry 3 -- giving up"
    assert content(line) == "retry 3 -- giving up"
    line = "2026-12-01 10:02:01,408 copied file1 file2 -- ok"
    assert content(line) == "copied file1 file2 -- ok"
    # a file and line in the message, not right after the dashes of a header
    line = "INFO 2026-12-01 10:02:01,408 compiled main.c -- see main.c:12 for details"
    assert content(line) == "compiled main.c -- see main.c:12 for details"


def test_a_logger_name_before_an_upper_case_level_is_header() -> None:
    line = (
        "2026-12-01 10:00:01.118 1 kserve INFO [storage.py:download():66] Copying contents of"
        " /mnt/models to local"
    )
    assert content(line) == "Copying contents of /mnt/models to local"
    line = "2026-12-01 10:00:01.411 1 kserve.trace INFO [model.py:__call__():62] predict done"
    assert content(line) == "predict done"
    # a key with its colon after Python's location is the message's (glusterd's logger after
    # its "[file.c:line:fn]" is header, as before)
    line = (
        "2026-12-01 10:00:07.331 1 kserve.trace INFO [model.py:__call__():260] requestId:"
        " 8f0c2a1e, preprocess_ms: 0.011"
    )
    assert content(line) == "requestId: 8f0c2a1e, preprocess_ms: 0.011"
    line = "[2026-12-01 10:00:01,118] LMCache INFO: Loading LMCache config file /etc/x.yaml"
    assert content(line) == "Loading LMCache config file /etc/x.yaml"
    line = "[2026-12-01 10:00:03,402] LMCache WARNING: local disk backend is full"
    assert content(line) == "local disk backend is full"


def test_a_level_word_opening_the_message_keeps_its_text() -> None:
    assert content("2026-12-01 10:00:01 ERROR: disk full") == "disk full"
    # a level word with no name before it and no text after it is the message
    assert content("2026-12-01 10:00:01 disk ERROR") == "disk ERROR"
    # a bracket holding a file and line after the level that is not Python's layout stays
    line = "2026-12-01 10:00:01 app INFO [see x.py line 3] for details"
    assert content(line) == "[see x.py line 3] for details"


def test_a_bracketed_time_after_a_level_with_its_colon_is_header() -> None:
    line = "INFO:     [01-12-2026 10:00:01] Anonymized telemetry enabled."
    assert content(line) == "Anonymized telemetry enabled."
    line = "ERROR:    [01-12-2026 10:01:03] Collection docs-v2 does not exist."
    assert content(line) == "Collection docs-v2 does not exist."
    # a bracket of words or of numbers with no clock is the message's
    assert content("WARNING [10:00 later] run again") == "[10:00 later] run again"
    line = "[error] [client 1.2.3.4] File does not exist: /x"
    assert content(line) == "[client 1.2.3.4] File does not exist: /x"


def test_tornados_level_bracket_with_a_logger_and_a_module_line_is_header() -> None:
    line = "[I 2026-12-01 10:00:01.118 JupyterHub app:3105] Running JupyterHub version 5.2.1"
    assert content(line) == "Running JupyterHub version 5.2.1"
    line = "[W 2026-12-01 10:00:09.412 JupyterHub proxy:371] Adding missing default route"
    assert content(line) == "Adding missing default route"
    # the one-name layout is unchanged, and three words after the time are no header
    assert content("[I 2026-11-29 10:00:01.118 ServerApp] Running") == "Running"
    line = "[I 2026-12-01 10:00:01.118 two words here] Running"
    assert content(line) == line
