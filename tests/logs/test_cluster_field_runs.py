"""Records of ``key=value`` fields (branch kv28): in a run of three or more fields the key names
the slot, so two records with the same keys in the same order and the same words around them are
one statement even where a value is masked or marked in one and a plain word in the other
(:func:`vigil.logs._fieldrun.in_field_run`, asked by :func:`vigil.logs._cluster._cost`); a
command line after a command key is one value however many words it has
(:func:`vigil.logs._unquoted.join_unquoted`). Keys that differ, a kind's key and a key outside a
run still keep their lines apart, and a value the same in every line stays a constant."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner, dumps, loads

from ._resolved import resolved_templates


@pytest.mark.parametrize(
    ("lines", "template"),
    [
        (  # Falco: a field with no value (<NA>) in one alert, a name in the other
            [
                "Sensitive file opened | file=/etc/shadow gparent=sshd ggparent=<NA> user=root"
                " process=cat parent=bash",
                "Sensitive file opened | file=/etc/sudoers gparent=bash ggparent=systemd"
                " user=ops process=less parent=sudo",
            ],
            "Sensitive file opened | file=<*> gparent=<*> ggparent=<*> user=<*> process=<*>"
            " parent=<*>",
        ),
        (  # Falco's proc.cmdline: a command of one word against one of four
            [
                "Shell spawned | user=root process=bash parent=runc command=bash terminal=34816"
                " container_name=trainer",
                "Shell spawned | user=ray process=sh parent=containerd-shim command=sh -c"
                " nvidia-smi -q terminal=34817 container_name=notebook",
            ],
            "Shell spawned | user=<*> process=<*> parent=<*> command=<*> terminal=<*>"
            " container_name=<*>",
        ),
    ],
)
def test_records_of_fields_differing_in_their_values_are_one_statement(
    lines: list[str], template: str
) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] == ids[1]
    assert templates == [template, template]


def test_the_records_hold_after_a_restart_from_saved_state() -> None:
    miner = TemplateMiner()
    first = miner.add(
        "File opened | file=/etc/shadow gparent=sshd ggparent=<NA> user=root process=cat"
    ).cluster_id
    loaded = loads(dumps(miner))
    line = "File opened | file=/etc/sudoers gparent=bash ggparent=systemd user=ops process=less"
    assert loaded.add(line).cluster_id == miner.add(line).cluster_id == first
    assert loaded.templates()[0].template == (
        "File opened | file=<*> gparent=<*> ggparent=<*> user=<*> process=<*>"
    )


@pytest.mark.parametrize(
    "lines",
    [
        [  # another key in one place: another record
            "Shell spawned | user=root process=bash parent=<NA> container=trainer",
            "Shell spawned | user=root program=bash parent=runc container=trainer",
        ],
        [  # a kind's key: two kinds of record
            "audit: type=SYSCALL user=<NA> exe=/usr/bin/cat success=yes",
            "audit: type=PATH user=root exe=/usr/bin/cat success=yes",
        ],
        [  # one field alone is no record: the value may name another event
            "Starting worker pool mode=<NA> with defaults",
            "Starting worker pool mode=fast with defaults",
        ],
    ],
)
def test_records_whose_keys_differ_or_that_hold_no_run_of_fields_stay_apart(
    lines: list[str],
) -> None:
    ids, _ = resolved_templates(lines)
    assert ids[0] != ids[1]


def test_a_value_the_same_in_every_record_stays_a_constant() -> None:
    _, templates = resolved_templates(
        [
            "Connection | fd_type=ipv4 user=<NA> process=curl parent=sh",
            "Connection | fd_type=ipv4 user=root process=python3 parent=bash",
        ]
    )
    assert templates[1] == "Connection | fd_type=ipv4 user=<*> process=<*> parent=<*>"
