"""A volume's mount options after a path are not a custom method (branch headers28).

The path mask keeps a custom method after a rooted path (``/v1/models/m:predict``, bugs27); a
bind mount's access mode or propagation written the same way (Docker's, Podman's and Compose's
``-v /host/dir:/ctr/dir:ro``, ``:rw``, ``:z``, ``:rshared``) is a state the statement prints,
kept as written after the masked path, as the labels keep states (``<*>:ro``)."""

from __future__ import annotations

from vigil.logs import TemplateMiner, mask


def test_a_mount_option_stays_after_its_path() -> None:
    assert mask("/data/x:ro") == "<*>:ro"
    assert mask("/var/run/docker.sock:/var/run/docker.sock:rw") == "<*>:<*>:rw"
    assert mask("binds=/srv/cache/hf:rshared") == "binds=<*>:rshared"
    assert mask("/data/x:ro,z") == "<*>:ro,z"


def test_read_only_and_writable_mounts_are_two_templates() -> None:
    miner = TemplateMiner()
    a = miner.add("mounting /srv/models/llama:ro into container trainer-7")
    b = miner.add("mounting /srv/models/qwen:rw into container trainer-8")
    assert "<*>:ro" in a.template
    assert miner.resolve(a.cluster_id) != miner.resolve(b.cluster_id)


def test_custom_methods_and_words_opening_like_an_option_stay_in_the_path() -> None:
    assert mask("/v1/models/sklearn-iris:predict") == "<*>"
    assert mask("/api/x/y:rotate") == "<*>"
    assert mask("/api/x/y:zip") == "<*>"
