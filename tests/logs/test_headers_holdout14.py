"""Automatic header detection on the layouts added in the holdout14 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_date_and_clock_joined_by_an_underscore_are_a_time() -> None:
    line = "2026-11-29_10:00:01.118+0000: runmmfs starting (48213)"
    assert content(line) == "runmmfs starting (48213)"
    # an identifier with an underscore is no time: the line keeps it
    assert content("2026_models_v2: loaded 4 shards").startswith("2026_models_v2:")


def test_a_level_letter_in_brackets_after_the_time_is_header() -> None:
    assert content("2026-11-29_10:00:09.044+0000: [I] mmfsd ready") == "mmfsd ready"
    line = "2026-11-29_10:12:40.503+0000: [N] Node 10.2.0.44 (gpu-node-14) lease renewal is overdue"
    assert content(line).startswith("Node 10.2.0.44")
    # a bracketed letter opening a line with no time is the message's own (a list item, a flag)
    assert content("[I] agree to the terms").startswith("[I]")
    # a bracketed letter that is no level after the time stays in the message
    assert "[Q]" in content("2026-11-29 10:00:01 [Q] queue drained")


def test_a_severity_and_a_facility_joined_by_a_slash_are_header() -> None:
    line = "[2026-11-29 10:00:01 +0000] information/ConfigItem: Committing config item(s)."
    assert content(line) == "Committing config item(s)."
    line = "[2026-11-29 10:00:19 +0000] critical/ApiListener: Cannot connect to host 'gpu-14'"
    assert content(line) == "Cannot connect to host 'gpu-14'"
    # a path with its colon is no severity: the message keeps it
    line = "[2026-11-29 10:00:01 +0000] uploads/images: 4 files removed"
    assert content(line).startswith("uploads/images:")


def test_a_thread_number_glued_to_a_subsystem_tag_after_the_time_is_header() -> None:
    assert content("Nov 29 10:00:01 00[JOB] spawning 16 worker threads") == (
        "spawning 16 worker threads"
    )
    line = "Nov 29 10:00:01 00[LIB] loaded plugins: charon aesni aes rc2 sha2"
    assert content(line) == "loaded plugins: charon aesni aes rc2 sha2"
    # a lower-case word in the brackets is an index of the message ("slot 0[a]")
    assert "0[a]" in content("Nov 29 10:00:01 0[a] slot ready")


def test_a_program_its_pid_a_function_location_and_a_level_are_header() -> None:
    line = (
        "Nov 29 10:00:01.118 node1 pacemaker-controld  [2201] "
        "(do_state_transition@controld_fsa.c:544)\tnotice: State transition S_IDLE -> S_POLICY"
    )
    assert content(line) == "State transition S_IDLE -> S_POLICY"
    line = (
        "Nov 29 10:00:01.124 node1 pacemaker-schedulerd[2199] (unpack_config)\t"
        "notice: On loss of quorum: Ignore"
    )
    assert content(line) == "On loss of quorum: Ignore"
    # a word in parentheses that no level follows: the program is not taken for a header
    line = "Nov 29 10:00:01 node1 backupd  [2201] (nightly) 4 volumes done"
    assert "(nightly) 4 volumes done" in content(line)


def test_a_context_closed_by_a_parenthesis_and_glued_to_a_module_is_header() -> None:
    line = (
        "2026-11-29T10:00:01.118Z cpu12:2098213)ScsiDeviceIO: 4124: Cmd(0x45b8c1a2e3c0) 0x89, "
        "CmdSN 0x3e2 failed"
    )
    assert content(line) == "Cmd(0x45b8c1a2e3c0) 0x89, CmdSN 0x3e2 failed"
    line = (
        "2026-11-29T10:00:01.121Z cpu5:2097221)WARNING: NMP: nmp_DeviceRequestFastDeviceProbe:237:"
        ' NMP device "naa.6005" state in doubt'
    )
    assert content(line) == 'NMP device "naa.6005" state in doubt'
    line = "2026-11-29T10:04:11.518Z cpu22:2099874 opID=5f1e2a0c)NetPort: 1580: disabled port 0x40"
    assert content(line) == "disabled port 0x40"
    line = "2026-11-29T10:12:02.118Z cpu9:2097490)igbn: indrv_UplinkReset:1520: vmnic1: uplink up"
    assert content(line) == "vmnic1: uplink up"
    # a parenthesis closing a value of the message is not a context
    line = "2026-11-29T10:00:01Z retry(3:400)Backoff: 5s"
    assert content(line).startswith("retry(3:400)")


def test_a_launchers_output_tag_is_header_and_the_rest_is_read_as_a_line() -> None:
    line = (
        "[1,0]<stderr>:2026-11-29 10:00:19.881204: I tensorflow/compiler/xla/stream_executor/"
        "cuda/cuda_dnn.cc:442] Loaded cuDNN version 8906"
    )
    assert content(line) == "Loaded cuDNN version 8906"
    assert content("[1,0]<stdout>:Epoch 1/90") == "Epoch 1/90"
    assert content("[1,2]<stderr>:Traceback (most recent call last):") == (
        "Traceback (most recent call last):"
    )
    # a stream name with no colon glued to it is not the tag: the message keeps it
    assert "<stdout> Epoch" in content("[1,0]<stdout> Epoch 1/90")


def test_a_progress_counter_opening_a_line_is_no_date() -> None:
    line = "1251/1251 - 412s - loss: 5.8123 - accuracy: 0.0412 - 412s/epoch - 329ms/step"
    assert content(line) == line
    # a month and a day are still a date before the clock
    assert content("11/29 10:00:01 worker ready") == "worker ready"


def test_a_time_a_level_letter_and_a_source_file_in_one_bracket_are_header() -> None:
    line = (
        "[2026-11-29 10:14:02.118232: W /tmp/pip-install/horovod/common/stall_inspector.cc:107]"
        " One or more tensors were submitted"
    )
    assert content(line) == "One or more tensors were submitted"
    # the same bracket without a level letter is a time alone: a path after it is the message's
    line = "[2026-11-29 10:14:02] /tmp/x/stall.cc:107 missing"
    assert content(line).startswith("/tmp/x/stall.cc:107")


def test_a_source_location_closed_by_a_bracket_right_after_the_level_is_header() -> None:
    line = (
        "2026-11-29 10:00:04.118243: I tensorflow/core/platform/cpu_feature_guard.cc:182] "
        "This TensorFlow binary is optimized"
    )
    assert content(line) == "This TensorFlow binary is optimized"
    # a word closed by a bracket that is no source location stays
    assert content("2026-11-29 10:00:04 I queue] drained").startswith("queue]")


def test_after_a_name_closed_by_a_colon_the_level_is_the_last_header_field() -> None:
    line = "2026-11-29 10:00:01,160 fail2ban.filter         [1442]: INFO      maxLines: 1"
    assert content(line) == "maxLines: 1"
    line = "2026-11-29 10:00:01,160 fail2ban.jail           [1442]: INFO    [sshd] Jail started"
    assert content(line) == "[sshd] Jail started"
    # with no name before the level, a logger after it is still header
    assert content("2026-11-29 10:00:01,160 INFO Worker: started") == "started"


def test_an_address_after_a_bracketed_level_is_no_time() -> None:
    line = '[INFO] 10.2.221.182:45961 - 36156 "A IN kubernetes.default.svc. udp 34" NOERROR'
    assert (
        content(line) == '10.2.221.182:45961 - 36156 "A IN kubernetes.default.svc. udp 34" NOERROR'
    )
    # a time and a dash after the bracketed level are still header
    assert content("[INFO] 2026-11-29 10:00:01 - worker ready") == "worker ready"


def test_a_bracket_holding_the_level_the_time_and_a_logger_is_the_whole_header() -> None:
    line = (
        "[W 2026-11-29 10:13:27.190 KernelRestarter] AsyncIOLoopKernelRestarter: restarting "
        "kernel (4/5)"
    )
    assert content(line) == "AsyncIOLoopKernelRestarter: restarting kernel (4/5)"
    # a bracket closed by a pid and a thread: a component and a location after it are header
    line = "[2026-11-29 10:42:49,225 W 8418 4752] (raylet) worker_pool.cc:1203: Failed to send"
    assert content(line) == "Failed to send"
