"""Automatic header detection: holdout19's layouts (branch unseen19). Each rule has lines of its
layout and near misses that keep their header as before."""

from __future__ import annotations

from vigil.logs import LogFormat, TemplateMiner


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_an_arrow_right_after_the_time_ends_the_header() -> None:
    # ClamAV's clamd.log and freshclam.log: a ctime and "->"
    assert content("Sun Nov 29 10:00:01 2026 -> Loaded 8704291 signatures.") == (
        "Loaded 8704291 signatures."
    )
    # a "word:" after the arrow is the message's own prefix, not a program or logger
    line = "Sun Nov 29 10:00:21 2026 -> Limits: Global time limit set to 120000 milliseconds."
    assert content(line) == "Limits: Global time limit set to 120000 milliseconds."
    line = "Sun Nov 29 10:14:02 2026 -> /srv/uploads/inv_4821.pdf: Win.Trojan.Agent-1 FOUND"
    assert content(line) == "/srv/uploads/inv_4821.pdf: Win.Trojan.Agent-1 FOUND"


def test_an_arrow_after_an_id_stays_the_messages() -> None:
    # Exim's delivery line: the arrow follows the message id, as before
    line = "2026-11-29 10:00:01 1tGx4M-000DkJ-3q => bob@lab.internal R=local T=smtp"
    assert content(line) == "1tGx4M-000DkJ-3q => bob@lab.internal R=local T=smtp"
    # an arrow after a bracketed field closes the header, as before
    line = "2026-11-29 10:00:01 770112 [58EF115D] 0x02 -> open session"
    assert content(line) == "open session"


def test_path_lines_and_stream_lines_of_clamd_group_by_their_form() -> None:
    fmt, miner = LogFormat(), TemplateMiner()
    lines = [
        "Sun Nov 29 10:14:02 2026 -> /srv/uploads/inv_4821.pdf: Win.Trojan.Agent-1234567 FOUND",
        "Sun Nov 29 10:14:02 2026 -> /srv/uploads/eicar.com: Eicar-Test-Signature FOUND",
        "Sun Nov 29 10:20:11 2026 -> instream(127.0.0.1@51234): Eicar-Test-Signature FOUND",
        "Sun Nov 29 10:22:40 2026 -> instream(10.1.0.57@40988): Win.Malware.Emotet-99 FOUND",
    ]
    ids = [miner.resolve(miner.cluster_of(fmt.split(line).content).id) for line in lines]
    # on main the path and the stream were cut into the header: lines grouped by signature
    assert ids[0] == ids[1]
    assert ids[2] != ids[0] and ids[3] != ids[0]


def test_a_level_opening_the_line_and_a_time_after_it_are_header() -> None:
    # Tinyproxy: the padded level first, then a syslog clock and the pid
    line = "NOTICE    Nov 29 10:00:01.120 [2211]: Initialized tinyproxy"
    assert content(line) == "Initialized tinyproxy"
    line = 'WARNING   Nov 29 10:05:00.118 [2211]: Unauthorized connection from "10.2.0.14".'
    assert content(line) == 'Unauthorized connection from "10.2.0.14".'
    # CouchDB: the bracketed level, the time, the node, the Erlang pid and the request id
    line = (
        "[info] 2026-11-29T10:00:01.118204Z couchdb@127.0.0.1 <0.248.0> -------- "
        "Apache CouchDB 3.4.2 is starting."
    )
    assert content(line) == "Apache CouchDB 3.4.2 is starting."
    line = (
        "[notice] 2026-11-29T10:02:14.118204Z couchdb@127.0.0.1 <0.4821.0> 8a1b2c3d4e "
        "10.1.0.5:5984 10.1.0.57 app GET /orders/_all_docs?limit=10 200 ok 12"
    )
    assert content(line) == "10.1.0.5:5984 10.1.0.57 app GET /orders/_all_docs?limit=10 200 ok 12"
    # a level and a time with nothing after them: the time is header too
    assert content("INFO 2026-11-29 10:00:01 Starting server") == "Starting server"
    # a hexadecimal word after a time with no Erlang pid before it is the message's
    line = "[info] 2026-11-29T10:00:01Z deadbeef0042 rejected by policy"
    assert content(line) == "deadbeef0042 rejected by policy"


def test_layouts_after_a_leading_level_keep_their_header() -> None:
    # glog, vLLM, a time and a dash after a bracketed level, lager's pid: as before
    line = 'I1129 10:00:01.118204    2314 kubelet.go:2414] "SyncLoop ADD" source="api"'
    assert content(line) == '"SyncLoop ADD" source="api"'
    line = "INFO 11-29 10:00:01 metrics.py:455] Avg prompt throughput: 1.0 tokens/s"
    assert content(line) == "Avg prompt throughput: 1.0 tokens/s"
    assert content("[INFO] 2026-11-29 10:00:01 - job started") == "job started"
    assert content("[info] <0.2009.0> accepting AMQP connection") == "accepting AMQP connection"


def test_ganeshas_colon_separated_fields_and_level_are_header() -> None:
    head = "29/11/2026 10:00:02 : epoch 6749a1b2 : nfs01 : ganesha.nfsd-1123[main] "
    assert content(head + "nfs_start :NFS STARTUP :EVENT :             NFS SERVER INITIALIZED") == (
        "NFS SERVER INITIALIZED"
    )
    line = head + "mdcache_lru_fds_available :INODE LRU :CRIT :FD Hard Limit Exceeded."
    assert content(line) == "FD Hard Limit Exceeded."
    line = head + "posix2fsal_error :FSAL :CRIT :Mapping 28(default) to ERR_FSAL_SERVERFAULT"
    assert content(line) == "Mapping 28(default) to ERR_FSAL_SERVERFAULT"


def test_colon_fields_with_no_level_after_them_stay_the_messages() -> None:
    # a word between colons that is no level: the header ends with the time, as before
    assert content("2026-11-29 10:00:01 : job 12 : state :DONE :ok") == (
        ": job 12 : state :DONE :ok"
    )


def test_thread_lines_of_ganesha_keep_their_own_templates() -> None:
    fmt, miner = LogFormat(), TemplateMiner()
    head = "29/11/2026 10:00:02 : epoch 6749a1b2 : nfs01 : ganesha.nfsd-1123[main] "
    lines = [
        head + "nfs_Start_threads :THREAD :EVENT :gsh_dbusthread was started successfully",
        head + "nfs_Start_threads :THREAD :EVENT :admin thread was started successfully",
        head + "nfs_Start_threads :THREAD :EVENT :reaper thread was started successfully",
        head + "nfs_Start_threads :THREAD :EVENT :General fridge was started successfully",
    ]
    ids = [miner.resolve(miner.cluster_of(fmt.split(line).content).id) for line in lines]
    assert ids[1] != ids[2]  # on main the header words left in the message joined them


def test_cockroachdbs_crdb_v2_header_is_cut_whole() -> None:
    # level and yymmdd date, clock, goroutine, file:line, the redaction mark, tags and counter
    line = (
        "I261129 10:00:03.118204 412 server/node.go:533 ⋮ [T1,Vsystem,n1] 31  initialized store s1"
    )
    assert content(line) == "initialized store s1"
    line = (
        "W261129 10:00:05.771204 1204 kv/kvserver/store_raft.go:701 ⋮ "
        "[T1,Vsystem,n1,s1,r42/1:/Table/10{6-7},raft] 118  slow non-blocking raft commit"
    )
    assert content(line) == "slow non-blocking raft commit"
    # the config lines have no counter; a non-redactable log has no mark; a channel before
    line = "I261129 10:00:01.118250 1 util/log/file_sync_buffer.go:238 ⋮ [T1,config]   log format"
    assert content(line) == "log format"
    assert content("E261129 10:00:01.5 7 1@server/drain.go:389  [n1] 12  drained") == "drained"


def test_glog_and_words_like_crdb_levels_keep_their_cut() -> None:
    # klog's four-digit date: as before
    line = "I1129 10:00:01.118204    2314 kubelet.go:2414] SyncLoop ADD"
    assert content(line) == "SyncLoop ADD"
    # a six-digit id that opens a line with no clock after it is not a crdb-v2 header
    assert content("E123456 is the error code of the last run") == (
        "E123456 is the error code of the last run"
    )
