"""A command line is one value (branch lists20, :mod:`vigil.logs._commands`).

The lines are those of the development directories whose labels write a command as one
``<*>`` (holdout9's ntpd, holdout10's Nextflow, holdout12's libvirtd and GlusterFS,
holdout15's Logstash, holdout17's BuildKit, holdout18's Fluentd, holdout19's CockroachDB and
pgBackRest), and near misses that must keep their words."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner, dumps, loads
from vigil.logs._commands import command_span, fold_commands


def _folded(line: str) -> str:
    words = line.split()
    return " ".join(fold_commands(words, words)[1])


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (
            "backup command begin 2.54.0: --exec-id=2211-4f1a2b3c --log-level-console=info"
            " --stanza=main --start-fast --type=full",
            "backup command begin 2.54.0: <*>",
        ),
        (
            "archive-push command begin 2.54.0: [pg_wal/000000010000000A00000051]"
            " --archive-async --exec-id=4118-9a8b7c6d --stanza=main",
            "archive-push command begin 2.54.0: <*>",
        ),
        (
            "Command line: /usr/sbin/ntpd -p /var/run/ntpd.pid -g -u 112:117",
            "Command line: <*>",
        ),
        ("$> nextflow run nf-core/rnaseq -profile docker -resume", "$> <*>"),
        ("ran: f( -x -y b)", "ran: <*>"),  # a bracket the command opens is the command's
        (
            "JVM bootstrap flags: [-Xms1g, -Xmx1g, -XX:+UseConcMarkSweepGC,"
            " -Djava.awt.headless=true]",
            "JVM bootstrap flags: [<*>]",
        ),
        (
            "arguments: [\u2039/cockroach/cockroach\u203a \u2039start\u203a"
            " \u2039--join=crdb-0,crdb-1,crdb-2\u203a"
            " \u2039--certs-dir=/cockroach/certs\u203a \u2039--listen-addr=:26257\u203a]",
            "arguments: [<*>]",
        ),
        (
            'spawn command to main: cmdline=["/usr/bin/ruby", "-Eascii-8bit:ascii-8bit",'
            ' "/usr/local/bin/fluentd", "-c", "/etc/fluent/fluent.conf", "--under-supervisor"]',
            "spawn command to main: cmdline=[<*>]",
        ),
        (
            '#8 ERROR: process "/bin/sh -c pip install --no-cache-dir -r'
            ' /app/requirements.txt" did not complete successfully: exit code: 1',
            '#8 ERROR: process "<*>" did not complete successfully: exit code: 1',
        ),
        (
            "#6 [2/6] RUN apt-get update && apt-get install -y --no-install-recommends"
            " libgl1 && rm -rf /var/lib/apt/lists/*",
            "#6 [2/6] RUN <*>",
        ),
        (
            "carol : TTY=pts/2 ; PWD=/home/carol ; USER=root ; COMMAND=/usr/bin/nvidia-smi -r -i 3",
            "carol : TTY=pts/2 ; PWD=/home/carol ; USER=root ; COMMAND=<*>",
        ),
        (
            "Started running version [{arg=/usr/sbin/glusterd}, {version=10.1},"
            " {cmdlinestr=/usr/sbin/glusterd -p /var/run/glusterd.pid --log-level INFO}]",
            "Started running version [{arg=/usr/sbin/glusterd}, {version=10.1}, {cmdlinestr=<*>}]",
        ),
        (
            "internal error: Child process (VIR_BRIDGE_NAME=virbr0 /usr/sbin/dnsmasq"
            " --conf-file=/var/lib/libvirt/dnsmasq/default.conf --leasefile-ro) unexpected",
            "internal error: Child process (<*>) unexpected",
        ),
        (
            "Check command for object 'db02!disk' (PID: 48213, arguments:"
            " '/usr/lib/nagios/plugins/check_disk' '-w' '20%' '-c' '10%') terminated",
            "Check command for object 'db02!disk' (PID: 48213, arguments: <*>) terminated",
        ),
    ],
)
def test_a_command_with_two_options_or_more_is_one_value(line: str, want: str) -> None:
    assert _folded(line) == want


@pytest.mark.parametrize(
    "line",
    [
        "run with --debug or --trace for more details",  # no label: the first word's event
        "Hint: run with --debug or --trace for more details",  # options inside a sentence
        "Command line: /usr/sbin/ntpd -p /var/run/ntpd.pid",  # one option
        "--verbose --debug given twice",  # the first word names the event
        "progress: 10 -- 20 -- 30",  # dashes, no option
        "sync 2026-11-29 -> 2026-11-30: done",  # a date and an arrow
        '"-a" "-b" quoted at the start',  # a frame opening the line
        "args: [-x, -y] and more: -z",  # an option after the frame: not the frame's
    ],
)
def test_near_misses_keep_their_words(line: str) -> None:
    assert _folded(line) == line


def test_the_span_names_what_is_kept_around_the_command() -> None:
    words = ["spawn", 'cmdline=["/bin/ruby",', '"-c",', '"/etc/f.conf",', '"--x"]', "now"]
    assert command_span(words) == (1, 5, "cmdline=[", "]")


def test_lines_with_more_or_fewer_options_are_one_template_kept_across_a_restart() -> None:
    miner = TemplateMiner()
    first = miner.add(
        "backup command begin 2.54.0: --exec-id=2211-4f1a2b3c --log-level-console=info"
        " --pg1-path=/var/lib/postgresql/16/main --stanza=main --start-fast --type=full"
    )
    assert first.template == "backup command begin <*>: <*>"
    again = miner.add(
        "backup command begin 2.54.0: --exec-id=4502-1c2d3e4f --log-level-console=info"
        " --stanza=main"
    )
    assert again.cluster_id == first.cluster_id
    restored = loads(dumps(miner))
    later = restored.add(
        "backup command begin 2.55.1: --archive-async --archive-timeout=60"
        " --exec-id=9a8b-7c6d --log-level-console=info --log-level-file=detail"
        " --pg1-path=/var/lib/postgresql/16/main --repo1-path=/var/lib/pgbackrest --stanza=main"
    )
    assert later.cluster_id == first.cluster_id
    assert later.template == "backup command begin <*>: <*>"
    assert restored.add("backup command end: completed successfully (4.2s)").cluster_id != (
        first.cluster_id
    )


def test_a_command_seen_once_is_printed_as_one_value() -> None:
    miner = TemplateMiner()
    got = miner.add('#8 ERROR: process "/bin/sh -c pip install --no-cache-dir -r /a/r.txt" failed')
    assert got.template == '#<*> ERROR: process "<*>" failed'
