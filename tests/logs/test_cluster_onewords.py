"""Grouping rules of the one-word-values round (branch onewords): where one word of a message
is a value the miner kept apart from its other values, or the reverse."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_a_weak_name_opening_a_message_meets_the_masked_ones() -> None:
    # "device1:" keeps its digit until a second value shows up; "spine1_v4:" is masked at
    # once: both are the instance a message is about, one cluster
    miner, ids = _ids(
        [
            "device1: State changed to up",
            "kernel4: State changed to up",
            "spine1_v4: State changed to up",
        ]
    )
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "<*>: State changed to up"


def test_a_snake_case_name_opening_a_message_is_the_instance_it_is_about() -> None:
    miner, ids = _ids(
        [
            "device1: State changed to up",
            "kernel4: State changed to up",
            "static_gw: State changed to up",
            "bgp-edge: State changed to up",
        ]
    )
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "<*>: State changed to up"


def test_a_plain_word_opening_a_message_with_a_colon_still_names_the_event() -> None:
    _, ids = _ids(["Error: Hold timer expired", "Received: Hold timer expired"])
    assert ids[0] != ids[1]
    _, ids = _ids(["warning: disk almost full", "error: disk almost full"])
    assert ids[0] != ids[1]


def test_the_reason_phrase_after_a_status_code_is_a_value() -> None:
    miner, ids = _ids(
        [
            "Completed 201 Created in 38ms (ActiveRecord: 6.2ms)",
            "Completed 302 Found in 1ms (ActiveRecord: 0.0ms)",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Completed <*> <*> in <*> (ActiveRecord: <*>)"


def test_a_reason_phrase_word_elsewhere_is_a_constant() -> None:
    # not after a value: the word names the event
    _, ids = _ids(["request handler returned OK now", "request handler returned Found now"])
    assert ids[0] != ids[1]
    # after a value, a word that is no reason phrase is not made a value by this rule
    _, ids = _ids(["Completed 201 quickly in 38ms", "Completed 302 slowly in 1ms"])
    assert ids[0] != ids[1]


def test_a_whole_column_of_a_bar_separated_row_is_a_value() -> None:
    miner, ids = _ids(
        [
            "Fan #0x32 | Lower Critical going low | Asserted",
            "Fan #0x32 | Lower Critical going low | Deasserted",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Fan #<*> | Lower Critical going low | <*>"
    _, ids = _ids(["Disk | sda | healthy | now", "Disk | sda | unhealthy | now"])
    assert ids[0] == ids[1]


def test_a_word_inside_a_column_of_several_words_still_tells_events_apart() -> None:
    _, ids = _ids(
        [
            "Critical Interrupt #0x1 | PCI SERR | Asserted",
            "Critical Interrupt #0x1 | PCI PERR | Asserted",
        ]
    )
    assert ids[0] != ids[1]
    # and look-alike words elsewhere stay apart, as before
    _, ids = _ids(["Link is now asserted on port", "Link is now deasserted on port"])
    assert ids[0] != ids[1]


def test_a_signal_name_is_a_value_beside_another_word_variable() -> None:
    miner, ids = _ids(
        [
            "[pool www] child 4821 exited on signal 9 (SIGKILL) after 312.04 seconds",
            "[pool api] child 5107 exited on signal 7 (SIGBUS) after 1840.50 seconds",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == (
        "[pool <*>] child <*> exited on signal <*> (<*>) after <*> seconds"
    )
    # second word of a message too: which signal arrived is not the verb
    _, ids = _ids(["received SIGTERM, closing server", "received SIGINT, closing server"])
    assert ids[0] == ids[1]


def test_signal_names_with_other_punctuation_or_other_capitals_stay_apart() -> None:
    _, ids = _ids(["received SIGTERM, closing server", "received SIGTERM; closing server"])
    assert ids[0] != ids[1]
    _, ids = _ids(["received SIGNAL, closing server", "received STATUS, closing server"])
    assert ids[0] != ids[1]


def test_a_word_ending_a_short_message_after_a_label_is_the_label_value() -> None:
    miner, ids = _ids(["Handling signal: term", "Handling signal: winch"])
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Handling signal: <*>"
    _, ids = _ids(["BACKEND_Initialize: onnxruntime", "BACKEND_Initialize: tensorrt"])
    assert ids[0] == ids[1]


def test_a_short_message_after_a_subject_or_with_look_alike_words_stays_apart() -> None:
    _, ids = _ids(["onReceive action: SCREEN_ON", "onReceive action: SCREEN_OFF"])
    assert ids[0] != ids[1]
    _, ids = _ids(["spine1_v4: Starting", "spine1_v4: Reconfigured"])
    assert ids[0] != ids[1]
    _, ids = _ids(["static_gw: Starting", "static_gw: Reconfigured"])
    assert ids[0] != ids[1]
    # nor a word that does not end a short line
    _, ids = _ids(["signal: term received", "signal: winch received"])
    assert ids[0] != ids[1]


def test_a_dns_name_with_its_root_dot_is_one_value() -> None:
    from vigil.logs._tokens import mask

    assert mask("www.example.org. A IN") == "<*> A IN"
    assert mask("relay=mx.partner.org., version=x") == "relay=<*>, version=x"
    assert mask("org.example.Main") == "org.example.Main"  # a package name stays


def test_dns_record_types_and_response_codes_are_values() -> None:
    miner, ids = _ids(
        [
            '10.2.221.182:45961 - 36156 "A IN api.example.com. udp 34 false" NOERROR qr,rd',
            '10.0.208.47:52761 - 9672 "AAAA IN api.example.com. udp 64 false" NXDOMAIN qr,rd',
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == ('<*>:<*> - <*> "<*> IN <*> udp <*> false" <*> qr,rd')
    _, ids = _ids(["192.168.1.25 www.example.org. A IN", "192.168.1.31 mail.lab.net. AAAA IN"])
    assert ids[0] == ids[1]


def test_capital_words_away_from_a_dns_class_stay_constants() -> None:
    # "A" and "MX" that are not beside "IN" are plain words; look-alike ones stay apart
    _, ids = _ids(["Plan A selected for the run", "Plan AAAA selected for the run"])
    assert ids[0] != ids[1]


def test_the_fields_of_a_semicolon_separated_record_are_values() -> None:
    miner, ids = _ids(
        [
            "SERVICE ALERT: lb02;PING;OK;SOFT;2;OK - Socket timeout after 10 seconds",
            "SERVICE ALERT: web01;PING;CRITICAL;SOFT;2;CRITICAL - Socket timeout after 10 seconds",
            "SERVICE ALERT: web02;SSH;WARNING;HARD;1;WARNING - Socket timeout after 30 seconds",
        ]
    )
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == (
        "SERVICE ALERT: <*>;<*>;<*>;<*>;<*>;<*> - Socket timeout after <*> seconds"
    )


def test_two_fields_or_fields_of_several_words_are_no_record() -> None:
    _, ids = _ids(["set mode to fast;safe now", "set mode to slow;safe now"])
    assert ids[0] != ids[1]
    _, ids = _ids(["SERVICE X: a;b;c;d(x) done", "SERVICE X: a;b;c;e(y) done"])
    assert ids[0] != ids[1]


def test_a_name_right_after_a_first_word_naming_its_kind_is_a_value() -> None:
    miner, ids = _ids(
        ['Module glx: vendor="X.Org Foundation"', 'Module modesetting: vendor="X.Org Foundation"']
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == 'Module <*>: vendor="X.Org Foundation"'


def test_a_second_word_after_another_first_word_is_still_the_subject() -> None:
    _, ids = _ids(['Loaded glx: vendor="X.Org"', 'Loaded modesetting: vendor="X.Org"'])
    assert ids[0] != ids[1]
    # and look-alike names after the kind stay apart (a hyphen-joined pair differing in a whole
    # part, "scratch-client" / "home-client", is two names since gather18:
    # test_cluster_sibling_names.py)
    _, ids = _ids(["Module nvidia_drm mounted now", "Module nvidia_uvm mounted now"])
    assert ids[0] != ids[1]


def test_an_engine_proxy_or_backend_is_named_by_the_word_after_it() -> None:
    _, ids = _ids(["Routing engine minhop chosen", "Routing engine ftree chosen"])
    assert ids[0] == ids[1]
    _, ids = _ids(["Proxy http-in started.", "Proxy stats started."])
    assert ids[0] == ids[1]


def test_two_acronyms_after_an_introducer_are_two_kinds_not_two_names() -> None:
    _, ids = _ids(
        ["Listening for RDMA connections: Port 8003", "Listening for TCP connections: Port 8003"]
    )
    assert ids[0] != ids[1]
    # names after the same word are values, as before
    _, ids = _ids(
        ["Listening for alice connections: Port 1", "Listening for bob connections: Port 1"]
    )
    assert ids[0] == ids[1]


def test_one_name_given_twice_in_a_line_is_one_value() -> None:
    miner, ids = _ids(
        [
            "Failed login for alice from 10.0.4.22:40118: bad password [uid: 3, name: alice]",
            "Failed login for ci-bot from 10.0.9.3:518: bad password [uid: 17, name: ci-bot]",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == (
        "Failed login for <*> from <*>:<*>: bad password [uid: <*>, name: <*>]"
    )


def test_two_different_words_beside_a_name_still_tell_events_apart() -> None:
    _, ids = _ids(
        [
            # "by", not "for": "for alice from <address>" names an account, a value from the
            # first line (branch meaning16), which leaves one differing word, not two
            "Failed attempt by alice from 10.0.4.22:40118: bad password [role: admin]",
            "Failed attempt by bob from 10.0.4.22:40118: bad password [role: guest]",
        ]
    )
    assert ids[0] != ids[1]


def test_two_identifiers_in_brackets_glued_to_one_word_are_values() -> None:
    miner, ids = _ids(
        [
            "PID=4412 Processing the top level command token(cleanup-image). - Handler",
            "PID=5120 Processing the top level command token(get-packages). - Handler",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == (
        "PID=<*> Processing the top level command token(<*>). - Handler"
    )


def test_plain_words_in_brackets_glued_to_one_word_stay_apart() -> None:
    _, ids = _ids(
        [
            "PID=4412 Processing the top level command token(cleanup). - Handler",
            "PID=5120 Processing the top level command token(packages). - Handler",
        ]
    )
    assert ids[0] != ids[1]
