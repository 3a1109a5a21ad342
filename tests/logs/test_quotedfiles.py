"""A file's name in quotes, alone or under a relative directory, is one value (branch paths29).

Python's ``%r`` (DVC), Rust's ``{:?}`` (a Delta Lake writer), Go's ``%q``, WildFly's deployment
names and Syncthing's items quote the file they were handed; the labels mask it as a path even
where one value shows. The word masks kept a bare name (``'dvc.yaml'``) and cut a relative one
into pieces (``_delta_log/<*>.checkpoint.parquet``)."""

from __future__ import annotations

from vigil.logs._tokens import mask
from vigil.logs._wordmasks import WordMasks


def test_a_quoted_file_name_is_one_value() -> None:
    assert mask("Checking if stage 'train' is in 'dvc.yaml'") == (
        "Checking if stage 'train' is in '<*>'"
    )
    assert mask("Updating lock file 'dvc.lock'") == "Updating lock file '<*>'"
    assert mask('Starting deployment of "shop.war" (runtime-name: "reports-1.4.2.ear")') == (
        'Starting deployment of "<*>" (runtime-name: "<*>")'
    )
    assert mask('open "config.yaml": no such file or directory') == (
        'open "<*>": no such file or directory'
    )
    # inside a quoted message, its quotes escaped (logrus, klog: Velero's restore warnings)
    assert mask('msg="could not restore, ConfigMap \\"kube-root-ca.crt\\" already exists"') == (
        'msg="could not restore, ConfigMap \\"<*>\\" already exists"'
    )


def test_a_quoted_relative_path_to_a_file_is_one_value() -> None:
    assert mask("Dependency 'data/features.parquet' of stage: 'train' changed") == (
        "Dependency '<*>' of stage: 'train' changed"
    )
    assert mask('Writing checkpoint to "_delta_log/00000000000000018220.checkpoint.parquet".') == (
        'Writing checkpoint to "<*>".'
    )
    # the miner masks one word at a time: the same answer there
    word = "'metrics/train.json'"
    assert WordMasks(limit=100).mask_list([word])[0] == ["'<*>'"]


def test_dotted_names_in_quotes_and_unquoted_file_names_are_kept() -> None:
    # a setting, a module, an API group and version, a media type, a logger: not a file
    kept = (
        '"pipeline.batch.size"=>',
        "'authentik.lib.config'",
        '"apiVersion":"kubeflow.org/v1"',
        'Content-Type: "text/html"',
        '"logger":"tls.obtain"',
        # a file the program names itself, not quoted (PostgreSQL)
        "Connection matched pg_hba.conf line <*>",
        # quotes that do not close around the name alone
        '"message with a.yaml" and \'b.json',
    )
    for text in kept:
        assert mask(text) == text, text
