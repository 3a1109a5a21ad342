"""An error's text after its key without quotes (branch spans23): Rust ``tracing``'s
``error=TLS detection timed out client.addr=...`` (linkerd2-proxy, Vector) and Calico felix's
``error=dial tcp ...`` are one value up to the next ``key=`` word, however many words the
error has; a text that stays the same keeps its words, another key's unquoted value and a
message ending in a colon phrase are left as they are."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._texts import SPACE, split_words


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def _closed(error: str, port: int) -> str:
    return f"Connection closed error={error} client.addr=10.42.3.7:{port}"


def test_errors_of_other_lengths_after_one_key_are_one_value() -> None:
    ids, templates = _run(
        [
            _closed("TLS detection timed out", 51522),
            _closed("connection closed before message completed", 48830),
            _closed("TLS detection timed out", 60114),
            _closed("connection reset", 40112),
        ]
    )
    assert ids == [ids[0]] * 4
    assert templates[-1] == "Connection closed error=<*> client.addr=<*>:<*>"


def test_an_unquoted_error_runs_to_the_next_key_or_the_end() -> None:
    line = "Healthcheck failed. error=Failed to make request: dns error component_kind=sink"
    assert split_words(line) == [
        "Healthcheck",
        "failed.",
        SPACE.join(["error=Failed", "to", "make", "request:", "dns", "error"]),
        "component_kind=sink",
    ]
    assert split_words("Failed to connect error=Connection refused (os error 111)")[-1] == (
        SPACE.join(["error=Connection", "refused", "(os", "error", "111)"])
    )


def test_the_same_error_text_keeps_its_words() -> None:
    # near miss: a fixed text after the key is the event's words, its number a value
    ids, templates = _run(
        [
            "Failed to connect error=Connection refused (os error 111)",
            "Failed to connect error=Connection refused (os error 104)",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == "Failed to connect error=Connection refused (os error <*>)"


def test_another_keys_value_and_a_colon_phrase_are_not_joined() -> None:
    # near misses: only an error's key opens a text; an unkeyed colon phrase is the message's
    assert split_words("job finished status=ok done in time") == [
        "job",
        "finished",
        "status=ok",
        "done",
        "in",
        "time",
    ]
    line = "Client disconnected: connection closed by peer"
    assert split_words(line) == line.split()
    ids, _ = _run(
        [
            "Client disconnected: connection closed by peer",
            "Client disconnected: stream error received",
        ]
    )
    assert ids[0] != ids[1]
