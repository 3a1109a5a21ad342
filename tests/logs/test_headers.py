from __future__ import annotations

import pytest

from vigil.logs import LogFormat, LogFormatError


def test_a_format_string_splits_header_and_content() -> None:
    fmt = LogFormat("<Date> <Time> <Pid> <Level> <Component>: <Content>")
    s = fmt.split("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 done")
    assert s.content == "PacketResponder 1 done"
    assert s.prefix == "<*> <*> <*> INFO dfs.DataNode$PacketResponder: "
    assert ("Level", "INFO") in s.fields


def test_a_line_that_does_not_match_the_format_is_all_content() -> None:
    assert LogFormat("<Date> <Level>: <Content>").split("garbage").content == "garbage"


def test_a_format_without_content_is_refused() -> None:
    with pytest.raises(LogFormatError):
        LogFormat("<Date> <Time>")


def test_the_syslog_preset_splits_program_and_pid() -> None:
    s = LogFormat("syslog").split("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4")
    assert s.content == "Invalid user x from 1.2.3.4"
    assert ("Pid", "24200") in s.fields


@pytest.mark.parametrize("spec", ["journald-json", "k8s-json", "auto"])
def test_json_presets_take_the_message_field(spec: str) -> None:
    fmt = LogFormat(spec)
    assert fmt.split('{"MESSAGE": "Started x", "PRIORITY": "6"}').content == "Started x"
    assert fmt.split('{"log": "hello 1\\n", "stream": "stderr"}').content == "hello 1"


def test_a_structured_json_line_keeps_the_fields_after_its_msg_key() -> None:
    line = '{"level":"warn","ts":"2026-11-29T10:00:01Z","msg":"took too long","took":"5ms"}'
    s = LogFormat().split(line)
    assert s.content == '"msg":"took too long","took":"5ms"}'
    assert s.prefix.startswith('{"level":"warn","ts":"<*>')
    assert ("level", "warn") in s.fields
    # a "msg" inside a string or a nested object is not the top-level key
    nested = '{"ctx":"a \\" \\"msg\\":","t":{"msg":1},"msg":"up","n":2}'
    assert LogFormat().split(nested).content == '"msg":"up","n":2}'


@pytest.mark.parametrize(
    ("line", "content"),
    [
        (
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
            "check pass; user unknown",
        ),
        (
            "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn",
            "Changing view acls to: yarn",
        ),
        (
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
            "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "instruction cache parity error corrected",
        ),
        (
            "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
            "onStandStepChanged 3579",
        ),
        ("2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: Created thing", "Created thing"),
        ("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", "workerEnv.init() ok"),
        ("03-17 16:13:38.811  1702  2395 D WindowManager: freezing display", "freezing display"),
        (
            "PacketResponder 1 for block blk_1 terminating",
            "PacketResponder 1 for block blk_1 terminating",
        ),
        ("ciod: generated 128 core files", "ciod: generated 128 core files"),
        ("[10.30 16:49:06] chrome.exe - a.com:443 open", "chrome.exe - a.com:443 open"),
        (
            "[Sun Dec 04 06:01:53 2005] [error] [client 1.2.3.4] Directory index forbidden",
            "[client 1.2.3.4] Directory index forbidden",
        ),
        (
            "2016-09-28 04:30:31, Info                  CBS    Starting TrustedInstaller.",
            "Starting TrustedInstaller.",
        ),
        (
            "2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [-] [instance: ab-1] VM up",
            "[instance: ab-1] VM up",
        ),
        (
            "2015-07-29 19:04:12,394 - INFO  [/10.1.1.1:3888:QuorumCnxManager$Listener@493] - "
            "Received connection request /10.1.1.3:59530",
            "Received connection request /10.1.1.3:59530",
        ),
        (  # klog: level letter and date, time, pid, source location
            'I1129 10:00:01.123456    2314 kubelet.go:2414] "SyncLoop ADD" source="api"',
            '"SyncLoop ADD" source="api"',
        ),
        (
            "INFO 11-29 10:00:01 metrics.py:455] Avg prompt throughput: 1.5 tokens/s",
            "Avg prompt throughput: 1.5 tokens/s",
        ),
        (
            'INFO:     10.0.3.21:51788 - "POST /v1/completions HTTP/1.1" 200 OK',
            '10.0.3.21:51788 - "POST /v1/completions HTTP/1.1" 200 OK',
        ),
        (  # logfmt: the header keys before the message
            'time=2026-11-29T10:00:01Z level=info msg="request completed" status=200',
            'msg="request completed" status=200',
        ),
        (
            "[rank0]:[2026-11-29 10:01:00] step 1200/50000 | loss 2.34",
            "step 1200/50000 | loss 2.34",
        ),
        (
            "2026-11-29T10:00:02.5Z 13 [Note] [MY-010926] [Server] Access denied for user 'r'@'h'",
            "Access denied for user 'r'@'h'",
        ),
        ("2026-11-29 10:00:01 System halted by operator", "System halted by operator"),
        ("ERROR 12 files failed to upload", "12 files failed to upload"),
        ("2026-11-29 10:00:01,123 - app.db - INFO - connected in 12 ms", "connected in 12 ms"),
        (
            "2026/11/29 10:00:01 [error] 1234#1234: *5678 open() failed (2: No such file)",
            "*5678 open() failed (2: No such file)",
        ),
        ("<34>1 2026-11-29T10:00:01.003Z web-3 app 1234 ID47 - user bob in", "user bob in"),
        ("2026-11-29T10:00:01.123456789Z stdout F GET /healthz 200", "GET /healthz 200"),
        ("1:M 29 Nov 2026 10:00:01.123 * Background saving started", "Background saving started"),
        ("[2026-11-29T10:00:01,123][INFO ][o.e.n.Node] started", "started"),
        (
            "2026-11-29 10:00:01.123  INFO 4242 --- [nio-8080-exec-1] "
            "o.s.web.servlet.DispatcherServlet        : Completed initialization in 1 ms",
            "Completed initialization in 1 ms",
        ),
        # only a bracketed time (kernel ring buffer, daemons): a "word:" after it is the message's
        ("[ 5123.004512] EDAC MC0: 1 CE memory read error", "EDAC MC0: 1 CE memory read error"),
        ("[2026-11-29T10:00:01.5] backfill: Started JobId=7", "backfill: Started JobId=7"),
        ("[  77.1] igb 0000:02:00.1 eno2: NIC Link is Up", "igb 0000:02:00.1 eno2: NIC Link is Up"),
        # an arrow or double dash after the header fields
        ("Nov 29 10:00:01 512345 [7F1A2B3C] 0x03 -> Heavy Sweep done", "Heavy Sweep done"),
        # a source location after the level, closed by a dash or its own colon
        ("2026-11-29 10:00:01,5\tWARNING api.py:88 -- retrying in 2 s", "retrying in 2 s"),
        ("ERROR [Thread-9] 2026-11-29 10:00:01,5 Store.java:12 - flush failed", "flush failed"),
        ("WARN  [pool 2] 2026-11-29 10:00:01,5 Store.java:12 - flush failed", "flush failed"),
        ("[2026-11-29 10:00:01,5 E 81 92] (agent) agent.cc:7: lost peer", "lost peer"),
        ("2026-11-29 10:00:01,5 INFO loader.py:3: 12 rows", "12 rows"),
        # tab-separated columns after the level (zap console), logger with its method (Jenkins)
        ("2026-11-29T10:00:01Z\tINFO\tsetup/main.go:12\tstarting manager", "starting manager"),
        ('2026-11-29T10:00:01Z\tINFO\tstarting manager\t{"a": 1}', 'starting manager\t{"a": 1}'),
        ("2026-11-29 10:00:01.5+0000 [id=4]\tINFO\ta.b.Job#run: Build 5 done", "Build 5 done"),
        # java.util.logging: LEVEL [thread] class.method with no colon
        (
            "29-Nov-2026 10:00:01.5 INFO [main] org.x.core.Server.start Server up in [9] ms",
            "Server up in [9] ms",
        ),
        # logfmt keys after a syslog program
        ('Nov 29 10:00:01 n1 app[9]: time="2026" level=info msg="up" id=3', 'msg="up" id=3'),
        # glued brackets after the level and one spaced field are header, later ones message
        ("[2026-11-29T10:00:01,5][WARN ][o.e.m.Gc] [node-1] [gc][7] spent 1s", "[gc][7] spent 1s"),
        ("[2026-11-29 10:00:01.5][7][info][main] [src/a.cc:9] all up", "all up"),
        # identifier fields and a Unix time (cluster event logs)
        (
            "2561 node-31 unix.hw state_change.unavailable 1074130012 1 Component alt0 down",
            "Component alt0 down",
        ),
        (
            "452829 node-148 action start 1074119817 1 clusterAddMember  (command 1902)",
            "clusterAddMember  (command 1902)",
        ),
        # a named number in brackets after the level; a level with its process in the bracket
        ("[Nov 29 2026 10:00:01] [INFO] [tid 7981] GPU 4 is registered", "GPU 4 is registered"),
        ("[2026-11-29 10:00:01,5: WARNING/MainProcess] consumer: lost", "consumer: lost"),
        # an access log record: the client address and time are the record's own values
        (
            '10.1.2.3 - bob [29/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 5',
            '10.1.2.3 - bob [29/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 5',
        ),
        # an IP:port after a level is the message, not a source location
        ('INFO:  10.0.0.1:5 - "GET / HTTP/1.1" 200 OK', '10.0.0.1:5 - "GET / HTTP/1.1" 200 OK'),
        # logfmt: every key=value pair before msg= is header, whatever its key
        (
            'ts=2026-11-29T10:00:01Z caller=a.go:5 level=warn component="x y" pool=n msg="up" d=1',
            'msg="up" d=1',
        ),
        ('logger=ctx userId=3 t=2026-11-29T10:00:01Z level=info msg="done" s=2', 'msg="done" s=2'),
        # ... but a key=value message with no msg= key keeps its pairs
        ("time=2026-11-29T10:00:01Z level=info path=/a status=200", "path=/a status=200"),
        # a hexadecimal thread id and a signed priority after the time (C++ daemons' dout)
        ("2026-11-29T10:00:01.5+0000 7f3a2b4c5700 -1 osd.3 12 no reply", "osd.3 12 no reply"),
        ("2026-11-29T10:00:01.5+0000 7f3a2b4c5700  0 log [DBG] : ok", "log [DBG] : ok"),
        # a bracketed source location with its function ends the bracket run after the level
        ("[2026-11-29 10:00:01,5] [INFO] [engine.py:96:save] [Rank 0] step=1", "[Rank 0] step=1"),
        # a logger name after a bracketed level padded to the longest level's width
        ("2026-11-29T10:00:01.1Z [INFO]  agent: Synced node info", "Synced node info"),
        ("[Sun Dec 04 04:47:44 2005] [error] mod_jk: child in error", "mod_jk: child in error"),
        # a category and a severity right after the time
        (
            "29-Nov-2026 10:00:01.5 queries: info: client @0x7f 10.0.0.1#53",
            "client @0x7f 10.0.0.1#53",
        ),
        # ... while after a host, "error:" is the message's own (syslog)
        (
            "Dec 10 06:55:46 LabSZ sshd[24200]: error: Received disconnect",
            "error: Received disconnect",
        ),
        # a bar after the time ends the header (a bar-separated record)
        (
            "[GIN] 2026/11/29 - 10:02:48 | 200 |  1.2s | 10.0.0.1 | GET /a",
            "200 |  1.2s | 10.0.0.1 | GET /a",
        ),
        # an Erlang process id after the level is the thread, header
        (
            "2026-11-29 10:00:01.5+00:00 [info] <0.2009.0> accepting AMQP connection",
            "accepting AMQP connection",
        ),
        # ... but one inside the message stays
        ("2026-11-29 10:00:01.5+00:00 [info] <0.29.0> closing <0.1.0>", "closing <0.1.0>"),
        # a thread in parentheses after a bracketed logger (JBoss/Quarkus layout)
        ("2026-11-29 10:00:01,5 INFO  [io.quarkus] (main) Keycloak started", "Keycloak started"),
        # tornado: level letter, time and logger in one bracket
        ("[I 2026-11-29 10:00:01.5 ServerApp] Kernel started: 3f2a", "Kernel started: 3f2a"),
        ("[W 201129 10:00:01 web:2243] 404 GET /x (10.0.0.1) 1.2ms", "404 GET /x (10.0.0.1) 1.2ms"),
        # a logger name with an underscore, a Rust path, spans and a source location (tracing)
        (
            "2026-11-29T10:00:01.5Z  INFO text_generation_launcher: Starting shard rank=0",
            "Starting shard rank=0",
        ),
        ("2026-11-29T10:00:01.5Z  INFO shard-manager: my_launcher: Shard ready", "Shard ready"),
        (
            "2026-11-29T10:00:01.5Z  INFO my_router::server: src/server.rs:305: Connected",
            "Connected",
        ),
        (
            '2026-11-29T10:00:01Z INFO gen{p=P { n: Some(5) } t="1s"}:st{}: my::infer: Done',
            "Done",
        ),
        # a peer address with its port after the time opens the message (no host has a port)
        (
            "Sun Nov 29 11:47:35 2026 10.0.0.7:5100 TLS: Initial packet",
            "10.0.0.7:5100 TLS: Initial packet",
        ),
        (
            "Sun Nov 29 11:47:35 2026 bob/10.0.0.7:5100 SENT CONTROL",
            "bob/10.0.0.7:5100 SENT CONTROL",
        ),
        # an upper-case tag right after the time, no host: the message's own prefix
        ("Sun Nov 29 11:47:21 2026 MULTI: Learn: 10.8.0.6", "MULTI: Learn: 10.8.0.6"),
        # ... but after a bracketed pid it is the level-like tag of the header, as before
        ("2026-11-29 10:00:01.1 UTC [18231] LOG:  connection received", "connection received"),
        # a braced context field, empty or not, and a logger qualified by parenthesised fields
        (
            "2026.11.29 10:00:01.5 [ 2978 ] {} <Debug> db.t (3f2a-1) (Merger): Selected 7",
            "Selected 7",
        ),
        (
            "2026.11.29 10:00:01.5 [ 2978 ] {3f2a-9c} <Information> TCPHandler: Processed",
            "Processed",
        ),
        # an address after the time with no program after it: a record's field, not a host
        (
            "1764464156.664  35237 10.0.1.157 TCP_MISS/200 402 GET",
            "35237 10.0.1.157 TCP_MISS/200 402 GET",
        ),
        ("2026-11-29 11:37:35 10.0.0.4 GET /healthz - 443", "10.0.0.4 GET /healthz - 443"),
        # ... while an address followed by a program is a syslog host
        ("Nov 29 10:00:01 10.0.0.5 sshd[42]: Accepted key", "Accepted key"),
        # ... while a plain word with a colon after the level stays the message's
        ("2026-11-29T10:00:01.5Z ERROR connection: refused by peer", "connection: refused by peer"),
    ],
)
def test_headers_are_detected_without_a_format(line: str, content: str) -> None:
    assert LogFormat().split(line).content == content


@pytest.mark.parametrize(
    ("line", "content"),
    [
        # a semicolon record: the space-free fields after the time are header
        ("11/29/2026 10:00:01;0008;Server@pbs01;Job;74.pbs01;Job Run on n1", "Job Run on n1"),
        (
            "11/29/2026 10:00:01;0100;Server@pbs01;Req;;Type 71 request received",
            "Type 71 request received",
        ),
        # a CSV record: the columns up to the level and its code, the message keeps the rest
        (
            '2026-11-29 10:00:01.5 UTC,"bob","db",42,"10.0.0.1:5",6a.3,1,"idle",'
            '2026-11-29 10:00:00 UTC,5/1,0,ERROR,23505,"dup key ""k""","Key (id)=(1) ex.",,,"a"',
            '"dup key ""k""","Key (id)=(1) ex.",,,"a"',
        ),
        (
            '2026-11-29 10:00:01 UTC,,,42,,6a.3,1,,2026-11-29 UTC,,0,LOG,00000,"checkpoint",,0',
            '"checkpoint",,0',
        ),
        # a comma in the time (milliseconds) is not a CSV record
        ("2026-11-29 10:00:01,123 INFO [main] a.B: x, y", "x, y"),
        # nor a time followed by prose with commas and no level column
        ("2026-11-29 10:00:01,5 started, waiting, ERROR later", "started, waiting, ERROR later"),
    ],
)
def test_delimited_records_are_cut_after_their_header_columns(line: str, content: str) -> None:
    assert LogFormat().split(line).content == content


@pytest.mark.parametrize(
    ("line", "content"),
    [
        # a Unix time in brackets opening the line is a bracketed time: header
        (
            "[1764414235] Auto-save of retention data completed.",
            "Auto-save of retention data completed.",
        ),
        # after it, a level word with a colon that follows a capitalised word ends a phrase of
        # the message ("SERVICE ALERT:"), it is not the header's level
        (
            "[1764416299] SERVICE ALERT: db01;PING;OK;SOFT;2;OK",
            "SERVICE ALERT: db01;PING;OK;SOFT;2;OK",
        ),
        # a level word with its colon opening a line with no time is the header
        ("Notice: Applied catalog in 18.16 seconds", "Applied catalog in 18.16 seconds"),
        ("Error: Could not retrieve catalog", "Could not retrieve catalog"),
        # and a rooted path after it is the message's subject, not a logger name
        (
            "Notice: /Stage[main]/Nginx/Service[nginx]/ensure: changed",
            "/Stage[main]/Nginx/Service[nginx]/ensure: changed",
        ),
        # a small bracketed number is not a time; a level word inside prose stays prose
        ("[42] Auto-save done", "[42] Auto-save done"),
        ("Errors: 3 found", "Errors: 3 found"),
        # a number closed by a colon is a numbered item of the message, not a time
        ("61: Client using the ascii protocol", "61: Client using the ascii protocol"),
    ],
)
def test_bracketed_unix_times_and_opening_level_words_are_header(line: str, content: str) -> None:
    assert LogFormat().split(line).content == content
