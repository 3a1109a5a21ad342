"""Grouping rules added in the holdout9 round: the value of a key that names the kind of record
tells events apart."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._slots import keyed, kinds_differ, names_kind


def templates(lines: list[str]) -> list[str]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return [miner.clusters[miner.resolve(i)].template for i in ids]


def test_a_key_naming_the_kind_of_record_is_not_a_value_key() -> None:
    assert names_kind("eid=<*> class=scrub_")
    assert names_kind("msg='op=PAM:")
    assert names_kind("type=")
    assert not names_kind("user=")
    assert not names_kind("subclass=")  # a key ending in a kind word is another key
    assert not names_kind("method=")  # an HTTP or login method is a value in some logs
    assert keyed("class=scrub_start", "class=statechange") == ""
    assert keyed("user=app", "user=bob") == "="
    # a masked value of such a key is still a value of it
    assert not kinds_differ("type=<*>", "type=LOGIN")
    assert keyed("type=<*>", "type=LOGIN") == "="


def test_records_of_different_kinds_stay_apart_and_their_values_still_vary() -> None:
    lines = [
        "eid=40 class=scrub_start pool='tank'",
        "eid=41 class=scrub_start pool='backup'",
        "eid=48 class=scrub_finish pool='backup'",
        "eid=49 class=resilver_start pool='tank'",
        "eid=51 class=resilver_finish pool='tank'",
    ]
    got = templates(lines)
    assert got[0] == got[1] == "eid=<*> class=scrub_start pool='<*>'"
    assert len(set(got)) == 4  # three kinds more, not one "class=<*>" for all
    # inside a quoted run of pairs too (an audit record's message)
    pam = "pid={} uid=0 ses=4 subj=unconfined msg='op=PAM:{} grantors={} acct=\"{}\" res=success'"
    got = templates(
        [
            pam.format(19455, "accounting", "pam_permit", "alice"),
            pam.format(19502, "accounting", "pam_permit", "bob"),
            pam.format(19503, "setcred", "pam_permit,pam_cap", "bob"),
        ]
    )
    assert got[0] == got[1] != got[2]
    assert "op=PAM:accounting" in got[0] and 'acct="<*>"' in got[0]
    # a key that does not name a kind still takes any value
    got = templates([f"job {n} done user={u} queue=gpu" for n, u in ((1, "ann"), (2, "bo"))])
    assert got[0] == got[1] == "job <*> done user=<*> queue=gpu"


def test_process_names_with_their_pid_after_a_label_are_one_value() -> None:
    got = templates(
        [
            "Sandbox: QQ(10018) deny(1) mach-lookup com.apple.networking.captivenetworksupport",
            "Sandbox: WeChat(881) deny(1) mach-lookup com.apple.CoreServices.coreservicesd",
        ]
    )
    assert got[0] == got[1] == "Sandbox: <*>(<*>) deny(<*>) mach-lookup <*>"
    # in the middle of a message, a word with a number in parentheses may be the event's own
    got = templates(["Sandbox: QQ(10018) deny(1) x y", "Sandbox: QQ(10018) allow(1) x y"])
    assert got[0] != got[1]
    # and right after a label, one name seen twice stays as written
    got = templates(["Sandbox: QQ(10018) deny(1) x", "Sandbox: QQ(20) deny(1) x"])
    assert got[0] == got[1] == "Sandbox: QQ(<*>) deny(<*>) x"
