"""Masking and grouping rules added in the holdout10 round: IPv6 addresses, a sentence's full
stop after a file's path, values in angle brackets and the value of a bracketed pair."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


def templates(lines: list[str]) -> list[str]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return [miner.clusters[miner.resolve(i)].template for i in ids]


def test_an_ipv6_address_is_one_value() -> None:
    assert mask("remote address is 2001:db8::53 port 53") == "remote address is <*> port <*>"
    assert mask("from fe80::1 and ::1") == "from <*> and <*>"
    assert mask("2001:0db8:0000:0000:0000:ff00:0042:8329 up") == "<*> up"
    assert mask("listening for SMTP on [0.0.0.0]:25 [::]:25") == (
        "listening for SMTP on [<*>]:<*> [<*>]:<*>"
    )
    # C++ and Rust paths, hexadecimal-looking names with no digit, a clock: not addresses
    assert mask("std::string a::b SSL routines::tlsv1") == "std::string a::b SSL routines::tlsv1"
    assert mask("at 10:00:01") == "at <*>:<*>:<*>"


def test_a_full_stop_after_a_files_path_is_the_sentences() -> None:
    assert mask("Config loaded from /etc/mosquitto/mosquitto.conf.") == "Config loaded from <*>."
    assert mask("Saving to /var/lib/m.db. Done") == "Saving to <*>. Done"
    # a path whose last part has no extension keeps its dot (HDFS's "part-00590. blk_...")
    assert mask("allocateBlock: /user/root/part-00590. blk_-1727") == "allocateBlock: <*> <*>"
    # an ellipsis after the extension is the sentence's too (branch masks22: the labels of
    # holdout21's TensorRT-LLM keep it out), and a path with no stop is masked as before
    assert mask("loading /a/b/x.conf...") == "loading <*>..."
    assert mask("open /a/b/x.tar.gz failed") == "open <*> failed"


def test_words_in_angle_brackets_are_values_however_many_the_line_holds() -> None:
    lines = [
        "Job <884213> is submitted to queue <gpu> by user <mkhan>",
        "Job <884214> is submitted to queue <normal> by user <jlee>",
    ]
    assert templates(lines) == ["Job <<*>> is submitted to queue <<*>> by user <<*>>"] * 2
    # the same words with no brackets are two events, as before (a plain word in the middle of
    # a message is a constant unless something marks it as a value)
    lines = ["Job 1 is submitted to queue gpu now", "Job 2 is submitted to queue normal now"]
    assert len(set(templates(lines))) == 2


def test_the_word_closing_a_bracketed_pair_is_the_value_its_name_names() -> None:
    lines = [
        "[pool www] server reached pm.max_children setting (5), consider raising it",
        "[pool api] server reached pm.max_children setting (24), consider raising it",
    ]
    assert (
        templates(lines)
        == ["[pool <*>] server reached pm.max_children setting (<*>), consider raising it"] * 2
    )
    # a pair whose name is capitalised is a phrase of the message, not a tag: kept apart
    lines = [
        "[Pool closed] server reached its limit of children now",
        "[Pool open] server reached its limit of children now",
    ]
    assert len(set(templates(lines))) == 2


def test_a_word_in_square_brackets_after_a_plain_word_is_a_value() -> None:
    lines = [
        "The web application [api] appears to have started a thread named [Timer-0]",
        "The web application [admin] appears to have started a thread named [pool-2]",
    ]
    assert (
        templates(lines)
        == ["The web application [<*>] appears to have started a thread named [<*>]"] * 2
    )
    # after a value it qualifies that value: a direction, a constant of each event
    lines = [
        "Channel 00/0 : 1[1] -> 9[1] [send] via NET/IB/0",
        "Channel 01/0 : 9[1] -> 1[1] [receive] via NET/IB/0",
    ]
    assert len(set(templates(lines))) == 2


def test_a_process_name_after_a_labelled_pid_is_a_value() -> None:
    lines = [
        "[R8812] getaddrinfo stop -- hostname: <private>, client pid: 1822 (Safari), took 5",
        "[R8812] getaddrinfo stop -- hostname: <private>, client pid: 734 (Slack), took 7",
    ]
    assert (
        templates(lines)
        == ["[R8812] getaddrinfo stop -- hostname: <private>, client pid: <*> (<*>), took <*>"] * 2
    )
    # a word in parentheses after another number is the event's own, as before
    lines = ["disk 3 (usable) at offset 9 ok now", "disk 4 (reserved) at offset 9 ok now"]
    assert len(set(templates(lines))) == 2


def test_a_decimal_number_signed_with_plus_is_one_value_sign_included() -> None:
    assert mask("for 192.0.2.7 at 2026-11-29 10:00:14 +0000") == "for <*> at <*> <*>:<*>:<*> <*>"
    assert mask("spike_detect +0.218744 s") == "spike_detect <*> s"
    # a backtrace frame's offset keeps its "+" (a frame with no function, "(+0x12cf0)"), and a
    # plus glued to a word is the word's ("C++11", "a+5")
    assert mask("/lib64/libpthread.so.0(+0x12cf0)[0x7f3a51e6acf0]").startswith("<*>(+<*>)")
    assert mask("C++11 a+5") == "C++<*> a+<*>"


def test_the_last_item_of_a_list_opened_by_a_value_is_a_value() -> None:
    lines = [
        "PM response took 1542 ms (54, com.apple.Safari)",
        "PM response took 388 ms (61, Slack)",
    ]
    assert templates(lines) == ["PM response took <*> ms (<*>, <*>)"] * 2
    # a list opened by a word is a phrase of the message: its words stay
    lines = ["PM response took 1542 ms (user, Safari)", "PM response took 388 ms (user, Slack)"]
    assert len(set(templates(lines))) == 2


def test_a_lower_case_name_in_parentheses_opening_a_message_is_its_subject() -> None:
    lines = [
        "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
        "(www-data) CMD (php /var/www/app/artisan schedule:run)",
    ]
    assert templates(lines) == ["(<*>) CMD (<*>)"] * 2
    # an upper-case tag in parentheses is the program's own word: kept
    lines = ["(CRON) info (No MTA installed, discarding output)", "(CRON) STARTUP (fork ok)"]
    assert templates(lines)[0].startswith("(CRON) info")
    lines = ["(CRON) info (No MTA installed)", "(ANACRON) info (No MTA installed)"]
    assert len(set(templates(lines))) == 2
