from __future__ import annotations

from vigil.logs import TemplateMiner, mask
from vigil.logs._compare import covers
from vigil.logs._slots import look_alike


def test_numbers_ips_and_ports_are_masked() -> None:
    assert mask("Served block to 10.0.0.1:50010 in 35 ms") == "Served block to <*>:<*> in <*> ms"


def test_hex_uuid_block_ids_and_paths_are_masked() -> None:
    line = "blk_-1608999687919862906 0x1f3a 38101a0b-2096-447d-96ea-a692162415ae /var/log/x.log"
    assert mask(line) == "<*> <*> <*> <*>"


def test_urls_keep_their_scheme() -> None:
    assert (
        mask("Connecting to driver: spark://Sched@10.1.2.3:4040")
        == "Connecting to driver: spark://<*>"
    )
    # an escaped quote closes a URL inside a quoted value
    assert (
        mask(r'err="Post \"http://10.0.0.1:9093/api\": timeout"')
        == r'err="Post \"http://<*>\": timeout"'
    )


def test_a_url_leaves_the_sentence_punctuation_after_it() -> None:
    assert mask("Listening on: http://0.0.0.0:8080. Next") == "Listening on: http://<*>. Next"
    assert mask("see https://a.example.org/x: done") == "see https://<*>: done"


def test_a_mailbox_or_a_quoted_node_name_is_one_value() -> None:
    assert mask("from=<alice@example.com>, size=5") == "from=<<*>>, size=<*>"
    # a user at a numbered host is two values since objrefs33 (PBS's labels), a quoted Erlang
    # node name still one
    assert mask("at request of svc-train@login02, node 'rabbit@mq-1'") == (
        "at request of <*>@<*>, node '<*>'"
    )
    # a word and a version after '@' stay as they were (npm-style package@1.2 has a digit)
    assert mask("installed left-pad@1.3.0") == "installed left-pad@<*>"


def test_a_bare_product_version_token_is_one_value() -> None:
    # an access-log field (IIS writes the user agent with '+' for spaces)
    assert mask("200 curl/8.5.0 -") == "<*> <*> -"
    assert mask("x Mozilla/5.0+(Windows+NT+10.0;+x64)+Chrome/131.0 -") == "x <*> -"
    # ... but a protocol version in capitals and a quoted user agent keep their name
    assert mask('"GET /a HTTP/1.1" "curl/8.4.0"') == '"GET <*> HTTP/<*>" "curl/<*>"'


def test_a_full_iso_date_time_in_a_message_is_one_value() -> None:
    assert mask("since back 2026-11-29T10:43:00.858+0000 front") == "since back <*> front"
    assert mask("run at 2026-11-29 10:07:11+00:00") == "run at <*>"
    # a date and a bare clock stay two values, the clock with its colons (Loghub's form)
    assert mask("#Date: 2026-11-29 10:19:18") == "#Date: <*> <*>:<*>:<*>"


def test_an_upper_case_code_with_digits_is_a_weak_word_not_a_strong_value() -> None:
    # message codes and algorithm names stay literal while constant (the miner decides)
    assert mask("ISPN000094: Received view") == "ISPN000094: Received view"
    assert (
        mask("KC-SERVICES0013: Failed authentication") == "KC-SERVICES0013: Failed authentication"
    )
    assert mask("ssh2: ED25519 SHA256:x") == "ssh2: ED25519 SHA256:x"
    # ... while ids with lower case or several numbered parts are values as before
    assert mask("blk_-1608999687 job_1445_0020 R02-M1-N0-C:J12-U11") == "<*> <*> <*>:<*>"


def test_key_value_keeps_the_key() -> None:
    assert mask("uid=0 euid=0 rhost=10.0.0.2") == "uid=<*> euid=<*> rhost=<*>"


def test_words_with_one_digit_stay_literal() -> None:
    assert (
        mask("Accepted password for root port 22 ssh2")
        == "Accepted password for root port <*> ssh2"
    )


def test_host_names_and_day_names_are_masked() -> None:
    assert mask("reverse mapping for ns1.example.com at Sun") == "reverse mapping for <*> at <*>"


def test_a_host_name_ending_a_sentence_leaves_its_full_stop_outside_the_value() -> None:
    # Loghub's labels ("... on port <*>.") and sendmail's ("timed out with <*>."): the full
    # stop ends the sentence; a DNS name's root dot before more words stays inside the value
    assert mask("connected to db1.example.com.") == "connected to <*>."
    assert mask("user agent curl/8.5.0.") == "user agent <*>."  # any value at the end
    assert mask("relay=mx.partner.org., version=3") == "relay=<*>, version=<*>"
    assert mask("A IN api.example.com. udp 63") == "A IN <*> udp <*>"
    m = TemplateMiner()
    m.add("session 12 connected to db1.example.com.")
    assert m.add("session 13 connected to db2.lab.internal.").template == (
        "session <*> connected to <*>."
    )


def test_java_packages_are_not_host_names() -> None:
    assert (
        mask("action android.intent.action.SCREEN_ON") == "action android.intent.action.SCREEN_ON"
    )


def test_masking_keeps_whitespace() -> None:
    assert mask("a  1\tb") == "a  <*>\tb"


def test_a_wildcard_covers_a_value_but_not_punctuation() -> None:
    assert covers("(<*>)", "()")
    assert covers("rhost=<*>", "rhost=<*>.example")
    assert not covers("instruction...<*>", "instruction......<*>")


def test_variants_of_one_word_look_alike_and_values_do_not() -> None:
    assert look_alike("failure;", "failures;")
    assert look_alike("x+", "y+")
    assert not look_alike("user=root", "user=git")
    assert not look_alike("webmaster", "oracle")


def test_versions_object_ids_relative_and_windows_paths_are_one_value() -> None:
    assert mask("Security Scaffold v1.0.0 initialized") == "Security Scaffold <*> initialized"
    assert mask("manager=com.example.g.c@3a5b2b ready") == "manager=<*> ready"
    assert mask("Error loading ./runtime_malloc: bad") == "Error loading <*>: bad"
    assert mask(r"Loaded C:\Windows\winsxs\cbscore.dll ok") == "Loaded <*> ok"


def test_an_id_of_several_numbered_parts_is_masked_but_one_numbered_word_is_not() -> None:
    assert mask("node R25-M1-N2 card J03-U11") == "node <*> card <*>"
    assert mask("port 22 ssh2 tty1") == "port <*> ssh2 tty1"


def test_long_hex_words_are_masked_even_without_a_digit() -> None:
    assert mask("fpr29=0x1 ffffffff DEADBEEF feedback") == "fpr29=<*> <*> <*> feedback"


def test_a_written_out_date_time_is_one_clock() -> None:
    from vigil.logs._tokens import fold_dates

    words = ["connection", "at", "Sat", "Jun", "18", "02:23:10", "2005", "from", "host"]
    masks = [mask(w) for w in words]
    assert fold_dates(words, masks) == ["connection", "at", "<*>:<*>:<*>", "from", "host"]
    assert fold_dates(["at", "Sat", "noon", "x"], ["at", "<*>", "noon", "x"])[1] == "<*>"


def test_pci_addresses_access_log_times_and_grouped_thousands_are_one_value() -> None:
    assert mask("Xid (PCI:0000:3b:00): 79") == "Xid (PCI:<*>): <*>"
    assert mask("mlx5_core 0000:d8:00.1 ib1") == "mlx5_core <*> <*>"  # ib1: _ifnames
    assert mask("GPU at PCI:0000:5e:00: GPU-1") == "GPU at PCI:<*>: GPU-1"
    assert mask("pci bus id 00000000:18:00.0 is up") == "pci bus id <*> is up"
    assert mask("[29/Nov/2026:10:00:01.123] GET") == "[<*>] GET"
    assert mask("took 27,225 ms for 1,024,000 rows") == "took <*> ms for <*> rows"
    # a clock is not a PCI address; a list of numbers is not a thousands-separated number, it
    # is a list, one value as the labels write it (test_tokens_lists.py)
    assert mask("at 10:00:01 ids 1,2,3") == "at <*>:<*>:<*> ids <*>"


def test_a_hyphen_after_a_value_is_punctuation_not_part_of_it() -> None:
    # the arrow between two values keeps its hyphen (it was read as the first value's last
    # character: "<*>><*>")
    assert mask("Eden regions: 131->0(26)") == "Eden regions: <*>-><*>(<*>)"
    assert mask("3901M->3539M(4096M) 30.4ms") == "<*>-><*>(<*>) <*>"
    assert mask("read udp 10.0.2.8:45246->10.3.2.1:53: i/o") == "read udp <*>:<*>-><*>:<*>: i/o"
    # a hyphen inside a value stays in it
    assert mask("on 2026-11-29 id blk_-1608999 done") == "on <*> id <*> done"


def test_a_name_with_a_numeric_index_or_range_in_brackets_is_one_value() -> None:
    # an element (or a set) of a collection: a resource address, a host list
    assert mask("aws_instance.gpu[2]: Creating...") == "<*>: Creating..."
    assert mask("NodeList=gpu-node-[01-04] #CPUs=8") == "NodeList=<*> #CPUs=<*>"
    assert mask("nodes cn[1,3,5-7] down") == "nodes <*> down"
    # a name indexed by a word, a bracket that opens the token, an index with letters: as before
    assert mask("resource Service[nginx] changed") == "resource Service[nginx] changed"
    assert mask("[KERNEL_IB][mad][5] port 1") == "[KERNEL_IB][mad][<*>] port <*>"
    assert mask("vfs.fs.size[/,pfree] unsupported") == "vfs.fs.size[/,pfree] unsupported"


def test_a_header_keeps_its_program_and_pid_apart() -> None:
    # the indexed-name rule is a message's: a header's "sshd[24200]:" keeps the program's name
    assert mask("Dec 10 LabSZ sshd[24200]: ", header=True) == "Dec <*> LabSZ sshd[<*>]: "
    # a message's plain name with one number keeps its name too (branch mask19); a host list
    # in a message is one value
    assert mask("sshd[24200]: x") == "sshd[<*>]: x"
    assert mask("node-[0-31]: x") == "<*>: x"


def test_an_iso_date_and_a_zoned_clock_are_one_value_word_by_word() -> None:
    from vigil.logs._tokens import fold_dates

    words = ["Executing", "fit", "on", "2026-11-29", "10:07:11+00:00"]
    assert fold_dates(words, [mask(w) for w in words]) == ["Executing", "fit", "on", "<*>"]
    # a date and a bare clock stay two values; a zoned clock after something else stays itself
    words = ["at", "2026-11-29", "10:07:11", "x", "5", "10:07:11+00:00"]
    assert fold_dates(words, [mask(w) for w in words]) == [
        "at",
        "<*>",
        "<*>:<*>:<*>",
        "x",
        "<*>",
        "<*>:<*>:<*>+<*>",
    ]


def test_a_protocol_name_glued_to_its_version_is_one_value() -> None:
    # "TLSv1.3", "TLSv1.2": a name with "v" and a dotted version is a version, as "v1.2.3" is
    assert mask("version=TLSv1.3, verify=OK") == "version=<*>, verify=OK"
    assert mask("using v2.6-rc1 and SSLv3") == "using <*> and SSLv3"  # no dotted number: a name


def test_a_key_name_with_a_digit_stays_in_the_template_when_its_value_varies() -> None:
    from vigil.logs import TemplateMiner

    miner = TemplateMiner()
    miner.add('argc=2 a0="modprobe" a1="nvidia_uvm"')
    got = miner.add('argc=2 a0="cat" a1="/etc/shadow"')
    assert got.template == 'argc=<*> a0="<*>" a1="<*>"'
    # two different key names in one place are still loosened (a weak variable)
    miner.add("regs r13=<*> saved ok now")
    assert miner.add("regs r27=<*> saved ok now").template == "regs <*>=<*> saved ok now"


def test_a_reason_clause_is_one_value_however_many_words_it_has() -> None:
    from vigil.logs import TemplateMiner
    from vigil.logs._texts import SPACE, split_words

    # to the end of the line, to the bracket that opened it, or to a comma
    assert split_words("Wake reason: RTC (Alarm)") == ["Wake", f"reason:{SPACE}RTC{SPACE}(Alarm)"]
    assert split_words("x (reason: a b) (k.X)") == ["x", f"(reason:{SPACE}a{SPACE}b)", "(k.X)"]
    assert split_words("UP, reason: L4 ok, check 5ms")[1:3] == [
        f"reason:{SPACE}L4{SPACE}ok,",
        "check",
    ]
    # an empty reason (a label follows) is left alone
    assert split_words("a reason: message: b") == ["a", "reason:", "message:", "b"]
    miner = TemplateMiner()
    miner.add("Wake reason: RTC (Alarm)")
    assert miner.add("Wake reason: EC.LidOpen (User)").template == "Wake reason: <*>"
    miner.add("Rebalance group g (reason: Adding new member c-1 with id None) (k.G)")
    got = miner.add("Rebalance group g (reason: removing member c-2 on expiration) (k.G)")
    assert got.template == "Rebalance group g (reason: <*>) (k.G)"
    # two other words at one place still do not merge: only a reason is free text
    miner.add("Wake cause: RTC (Alarm)")
    assert miner.add("Wake cause: EC.LidOpen (User)").template == "Wake cause: EC.LidOpen (User)"


def test_a_command_in_parentheses_after_cmd_is_one_value() -> None:
    from vigil.logs import TemplateMiner
    from vigil.logs._texts import SPACE, split_words

    words = split_words("(root) CMD (run-parts /etc/cron.hourly) done")
    assert words == ["(root)", f"CMD{SPACE}(run-parts{SPACE}/etc/cron.hourly)", "done"]
    assert split_words("CMD x y") == ["CMD", "x", "y"]  # no parenthesis: not a command clause
    miner = TemplateMiner()
    miner.add("(root) CMD (run-parts /etc/cron.hourly)")
    assert miner.add("(root) CMD (/usr/lib/sa/sa1 1 1)").template == "(root) CMD (<*>)"


def test_a_process_name_in_parentheses_after_its_pid_is_a_value() -> None:
    from vigil.logs import TemplateMiner
    from vigil.logs._slots import process_name

    assert process_name("process", "<*>", "(mpirun).", "(lmp_linux).")
    assert not process_name("status", "<*>", "(Recv)", "(Send)")  # a constant after a number
    miner = TemplateMiner()
    miner.add("Out of Memory: Killed process 12033 (mpirun).")
    got = miner.add("Out of Memory: Killed process 9921 (lmp_linux).")
    assert got.template == "Out of Memory: Killed process <*> (<*>)."
    miner.add("Got completion with error 12 (Recv) from peer")
    assert miner.add("Got completion with error 12 (Send) from peer").template.endswith(
        "(Send) from peer"
    )
