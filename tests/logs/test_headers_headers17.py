"""Automatic header detection: message words the detection took for header fields on raw lines
only (branch headers17). Each rule has a line of its layout and near misses that keep their
header as before."""

from __future__ import annotations

from vigil.logs import LogFormat, TemplateMiner


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_an_upper_case_tag_after_a_process_field_and_no_host_is_the_message() -> None:
    # vsftpd: "<ctime> [pid N] CONNECT: ..." -- CONNECT: was taken for a syslog program
    line = 'Sun Nov 29 10:00:01 2026 [pid 4821] CONNECT: Client "10.0.3.17"'
    assert content(line) == 'CONNECT: Client "10.0.3.17"'
    line = 'Sun Nov 29 10:00:02 2026 [pid 4820] [alice] OK LOGIN: Client "10.0.3.17"'
    assert content(line) == '[alice] OK LOGIN: Client "10.0.3.17"'
    split = LogFormat().split(line)
    assert [k for k, _ in split.fields] == ["Time", "Time", "Number", "Time", "Number"]


def test_tagged_lines_of_different_processes_make_one_template() -> None:
    fmt, miner = LogFormat(), TemplateMiner()
    lines = [
        'Sun Nov 29 10:00:01 2026 [pid 4821] CONNECT: Client "10.0.3.17"',
        'Sun Nov 29 10:01:13 2026 [pid 5109] CONNECT: Client "10.0.3.44"',
        'Sun Nov 29 10:01:14 2026 [pid 5110] [bob] FAIL LOGIN: Client "10.0.3.44"',
        'Sun Nov 29 10:01:20 2026 [pid 5130] [bob] OK LOGIN: Client "10.0.3.44"',
    ]
    ids = [miner.cluster_of(fmt.split(line).content).id for line in lines]
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3
    assert miner.clusters[miner.resolve(ids[0])].template == 'CONNECT: Client "<*>"'


def test_a_program_after_a_host_or_a_level_after_a_pid_stays_header() -> None:
    # a host before the program: syslog's program, header as before
    line = "Nov 29 10:00:01 ftp01 vsftpd[4821]: CONNECT: Client 10.0.3.17"
    assert content(line) == "CONNECT: Client 10.0.3.17"
    # PostgreSQL: a bare pid bracket, then its severity: header as before
    line = "2026-11-29 10:00:01.123 UTC [18231] FATAL:  password authentication failed"
    assert content(line) == "password authentication failed"
    # a lower-case name after the process field is not an upper-case tag: left as it was
    line = "Sun Nov 29 10:00:01 2026 [pid 4821] worker: started"
    assert content(line) == "started"


def test_an_upper_case_tag_after_a_tabbed_level_is_no_logger_name() -> None:
    # istiod: "<time>\tinfo\tFLAG: --x=..." -- FLAG: was taken for a CamelCase logger column
    line = '2026-11-29T10:00:01.118291Z\tinfo\tFLAG: --clusterID="Kubernetes"'
    assert content(line) == 'FLAG: --clusterID="Kubernetes"'
    line = "2026-11-29T10:02:14.551002Z\tinfo\tads\tADS: new connection for node:x-1"
    assert content(line) == "ADS: new connection for node:x-1"
    # a CamelCase or dotted logger column stays header
    line = "2026-11-29T10:00:01.000Z\tINFO\tWindowManager: focus changed"
    assert content(line) == "focus changed"
    line = "2026-11-29T10:00:01.000Z\tINFO\thudson.model.Run#execute: build started"
    assert content(line) == "build started"


def test_a_capitalised_key_padded_after_a_bracketed_level_is_the_message() -> None:
    # NATS's banner: "[pid] <time> [INF]   Version:  2.10.22" -- the key was taken for an
    # hclog logger name, then for a padded column
    line = "[1] 2026/11/29 10:00:01.118311 [INF]   Version:  2.10.22"
    assert content(line) == "Version:  2.10.22"
    line = "[1] 2026/11/29 10:00:01.118319 [INF]   Cluster:  nats-cluster"
    assert content(line) == "Cluster:  nats-cluster"
    # hclog's lower-case logger after its padded level stays header
    line = "2026-11-29T10:00:01.118Z [INFO]  core: security barrier not initialized"
    assert content(line) == "security barrier not initialized"
    # a padded column with no colon stays header ("Info     CBS    Loaded ...")
    line = "2026-11-29 10:00:01, Info                  CBS    Loaded Servicing Stack v6.1"
    assert content(line).startswith("Loaded Servicing Stack")
