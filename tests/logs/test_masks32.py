"""Words whose variable parts are joined by punctuation, and the kernel tracer's record prefix
(branch masks32).

A DIMM label names its place by numbered parts joined by ``_``
(``CPU_SrcID#0_MC#1_Chan#0_DIMM#0``), a worker thread its number and interface (``W#01-ens1f0``):
one value, as ``R25-M1-N2`` is; a number after ``#`` no longer swallows the name after it. Three
hex bytes with a letter are an OUI, one value as a MAC is. An ftrace record's ``TASK-PID [CPU]
[FLAGS] TIME:`` is header, whether it opens the line or follows a syslog program. Each test holds
words or lines that failed on main's code and near misses the rules must not change."""

from __future__ import annotations

from vigil.logs import LogFormat
from vigil.logs._ftrace import ftrace_end
from vigil.logs._tokens import mask


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_dimm_label_of_numbered_parts_is_one_value() -> None:
    assert mask("CPU_SrcID#0_MC#1_Chan#0_DIMM#0") == "<*>"
    assert mask("error on CPU_SrcID#1_MC#0_Chan#2_DIMM#1 (channel:2") == (
        "error on <*> (channel:<*>"
    )
    assert mask("Node#0-Socket#1") == "<*>"
    assert mask("(W#01-ens1f0) Kernel: Packets") == "(<*>) Kernel: Packets"  # Suricata's worker
    # near misses: one numbered name keeps its name, as before
    assert mask("Socket#3") == "Socket#<*>"
    assert mask("DIMM#0") == "DIMM#<*>"
    assert mask("issue#12 closed") == "issue#<*> closed"
    assert mask("W#1-abc") == "W#<*>"  # a name with no number after the numbered one


def test_a_number_after_a_hash_keeps_the_name_after_it() -> None:
    assert mask("port#1_rx") == "port#<*>_rx"
    assert mask("queue#12_tx stalled") == "queue#<*>_tx stalled"
    # near misses: a number glued to a unit or a number alone is still one value
    assert mask("4096_blocks") == "<*>"
    assert mask("#12") == "#<*>"
    assert mask("job#3_7") == "job#<*>"


def test_three_hex_bytes_with_a_letter_are_an_oui() -> None:
    assert mask("unknown org tlv [00:1b:21] received") == "unknown org tlv [<*>] received"
    assert mask("b4:96:91") == "<*>"
    assert mask("b4-96-91") == "<*>"
    # near misses: a clock keeps its colons, letters alone are a word, a MAC is one value
    assert mask("at 10:00:01") == "at <*>:<*>:<*>"
    assert mask("ab:cd:ef") == "ab:cd:ef"
    assert mask("00:1b:21:aa:bb:cc") == "<*>"


def test_an_ftrace_prefix_opening_a_line_is_header() -> None:
    line = "          <idle>-0     [003] d..1  4242.500001: sched_switch: prev_comm=swapper/3"
    assert content(line) == "sched_switch: prev_comm=swapper/3"
    line = "kworker/3:1-212 (212) [003] .... 12.500000: workqueue_execute_start: work struct"
    assert content(line) == "workqueue_execute_start: work struct"
    assert content("bash-1234  [001]  1234.567890: sys_enter: NR 1") == "sys_enter: NR 1"


def test_an_ftrace_record_after_a_syslog_program_is_header() -> None:
    line = (
        "2026-12-02T05:10:01+0000 gpu-node-07 rasdaemon[1320]:            <...>-1338  [012]"
        "     0.001225: mc_event: 2026-12-02 05:10:01 +0000 1 Corrected error"
    )
    assert content(line) == "mc_event: 2026-12-02 05:10:01 +0000 1 Corrected error"


def test_words_that_only_look_like_an_ftrace_prefix_stay_the_message() -> None:
    # a word that is not the tracer's flags, a time without microseconds, no CPU bracket
    assert ftrace_end("job-12 [001] done 1.500000: ok") == 0
    assert ftrace_end("bash-1234  [001]  1234.5: sys_enter: NR 1") == 0
    assert ftrace_end("bash-1234 (001) 1234.567890: sys_enter") == 0
    line = "Dec  2 05:10:01 host prog[1]: job-12 [001] done 1.500000: ok"
    assert content(line) == "job-12 [001] done 1.500000: ok"
