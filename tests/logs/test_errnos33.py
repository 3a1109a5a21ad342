"""The C library's error texts after a label (branch errtext33): one statement printed with
two ``strerror`` texts of other word counts at the line's end (UCX's ``ibv_reg_mr(...) failed:
Bad address`` / ``Cannot allocate memory``, systemd-logind's ``ignoring: Transport endpoint is
not connected`` / ``Connection reset by peer``) is one template with the text a value; a text
that is not one of them stays the statement's words, as does a short message."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._errnos import errno_texts, is_errno_text


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def _reg(address: str, error: str) -> str:
    return f"ibv_reg_mr(address={address}, length=2097152, access=0xf) failed: {error}"


def test_error_texts_of_other_lengths_after_a_label_are_one_value() -> None:
    ids, templates = _run(
        [
            _reg("0x7f3a2c000000", "Bad address"),
            _reg("0x7f3a2c400000", "Bad address"),
            _reg("0x7efc18200000", "Cannot allocate memory"),
        ]
    )
    assert ids == [ids[0]] * 3
    assert templates[-1].endswith("failed: <*>")


def test_a_third_error_text_joins_the_slot() -> None:
    scope = "Failed to abandon session scope, ignoring: {}"
    ids, templates = _run(
        [
            scope.format("Transport endpoint is not connected"),
            scope.format("Connection reset by peer"),
            scope.format("Broken pipe"),
            scope.format("No such file or directory"),
        ]
    )
    assert ids == [ids[0]] * 4
    assert templates[-1] == "Failed to abandon session scope, ignoring: <*>"


def test_the_same_error_text_keeps_its_words() -> None:
    ids, templates = _run([_reg("0x7f3a2c000000", "Bad address")] * 2)
    assert ids[0] == ids[1]
    assert templates[0].endswith("failed: Bad address")


def test_a_tail_that_is_no_error_text_stays_the_statements_words() -> None:
    line = "Failed to abandon session scope, ignoring: {}"
    ids, _ = _run([line.format("device gone"), line.format("unit was never started here")])
    assert ids[0] != ids[1]


def test_a_short_message_keeps_its_error_texts_apart() -> None:
    ids, _ = _run(["failed: Connection refused", "failed: No route to host"])
    assert ids[0] != ids[1]


def test_the_vocabulary_is_the_c_librarys_in_any_case() -> None:
    assert is_errno_text(["connection", "refused"])
    assert is_errno_text(["No", "route", "to", "host."])
    assert not is_errno_text(["link", "is", "down"])
    assert not is_errno_text(["refused"])
    assert errno_texts(["<*>"], ["Broken", "pipe"])
    assert not errno_texts(["link", "is", "up"], ["Broken", "pipe"])
