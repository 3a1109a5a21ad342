"""Automatic header detection: header fields left in the message of holdout18's layouts (branch
unseen18). Each rule has lines of its layout and near misses that keep their header as before."""

from __future__ import annotations

from vigil.logs import LogFormat, TemplateMiner


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_programs_own_time_and_level_after_a_syslog_program_are_header() -> None:
    # Nomad through the journal: hclog's time, padded level and logger after "nomad[pid]:"
    line = (
        "Nov 29 10:00:01 node3 nomad[2211]:     2026-11-29T10:00:01.204Z [INFO]  client: "
        "using state directory: state_dir=/opt/nomad/data/client"
    )
    assert content(line) == "using state directory: state_dir=/opt/nomad/data/client"
    line = (
        "Nov 29 10:07:53 node3 nomad[2211]:     2026-11-29T10:07:53.266Z [ERROR] "
        "client.alloc_runner.task_runner: running driver failed: alloc_id=c70e4d19 task=api"
    )
    assert content(line) == "running driver failed: alloc_id=c70e4d19 task=api"
    # a date and a clock, a bare level and a logger with a dash (log4j through the journal)
    line = "Nov 29 10:00:01 host app[12]: 2026-11-29 10:00:01,118 INFO com.x.Main - started"
    assert content(line) == "started"


def test_a_time_after_a_program_with_no_level_after_it_is_the_message() -> None:
    # a time the message opens with, no level after it: the message's own value, as before
    line = "Nov 29 10:00:01 host backup[12]: 2026-11-29 10:00:01 took 5 ms"
    assert content(line) == "2026-11-29 10:00:01 took 5 ms"
    # the program's own banner line with no stamp: as before
    line = "Nov 29 10:00:00 node3 nomad[2211]: ==> Loaded configuration from /etc/nomad.d/n.hcl"
    assert content(line) == "==> Loaded configuration from /etc/nomad.d/n.hcl"
    # a level right after the program (no time): as before, the level is the message's here
    line = "Nov 29 10:00:01 host sshd[42]: error: kex_exchange_identification: closed"
    assert content(line) == LogFormat().split(line).content


def test_stamped_lines_of_one_statement_make_one_template() -> None:
    fmt, miner = LogFormat(), TemplateMiner()
    lines = [
        "Nov 29 10:03:19 node3 nomad[2211]:     2026-11-29T10:03:19.377Z [INFO]  "
        "client.driver_mgr.docker: created container: driver=docker container_id=4b1e07c9a3f2",
        "Nov 29 10:03:19 node3 nomad[2211]:     2026-11-29T10:03:19.810Z [INFO]  "
        "client.driver_mgr.docker: started container: driver=docker container_id=4b1e07c9a3f2",
        "Nov 29 10:04:02 node3 nomad[2211]:     2026-11-29T10:04:02.001Z [INFO]  "
        "client.driver_mgr.docker: created container: driver=docker container_id=9c0d11e2f7a4",
    ]
    ids = [miner.cluster_of(fmt.split(line).content).id for line in lines]
    assert ids[0] == ids[2] != ids[1]
    assert miner.clusters[miner.resolve(ids[0])].template == (
        "created container: driver=docker container_id=<*>"
    )


def test_a_go_caller_column_with_its_module_version_is_header() -> None:
    # the OpenTelemetry Collector's zap console: "<time>\tinfo\tpkg@v0.112.0/file.go:135\tmsg"
    line = "2026-11-29T10:00:01.118Z\tinfo\tservice@v0.112.0/service.go:135\tSetting up telemetry"
    assert content(line) == "Setting up telemetry"
    line = (
        "2026-11-29T10:06:02.330Z\tinfo\tmemorylimiter@v0.112.0/memorylimiter.go:200\t"
        'Memory usage is above soft limit.\t{"kind": "processor", "cur_mem_mib": 1843}'
    )
    assert content(line).startswith("Memory usage is above soft limit.\t{")
    # a caller with no version, as before
    line = "2026-11-29T10:00:01.118Z\tinfo\tinternal/retry_sender.go:118\tExporting failed."
    assert content(line) == "Exporting failed."
    # an address with an "@" is no module version: the message's, as before
    line = "2026-11-29T10:00:01.204Z\tinfo\tuser@example.com\tlogged in"
    assert content(line) == "user@example.com\tlogged in"
