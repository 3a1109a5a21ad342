"""A file's name in quotes, alone or under a relative directory, is one value.

Called by :func:`vigil.logs._tokens.mask` on a word (or a line) that holds a quote, before the
word masks of :data:`vigil.logs._tokens._STRONG`. Pure string rewriting (branch ``paths29``).

Programs quote the file they were handed: Python's ``%r`` and f-strings with ``!r`` (DVC's
``Checking if stage 'train' is in 'dvc.yaml'``, ``Updating lock file 'dvc.lock'``, pip's and
Ansible's ``'requirements.txt'``), Rust's ``{:?}`` (a Delta Lake writer's ``Writing checkpoint
to "_delta_log/00000000000000018220.checkpoint.parquet"``), Go's ``%q`` (``open "config.yaml"``),
Git's ``'README.md'``, TorchServe's ``'startup.cfg'``. The labels of every development directory
mask such a name even where the sample shows one value only (a path is a value even then:
holdout17's convention), as they mask a rooted path; the word masks kept a bare name
(``'dvc.yaml'``) and cut a relative one of two parts into pieces (``_delta_log/<*>.checkpoint
.parquet``), so a second file was a second template.

Only a name whose extension is a file type's (data, configuration, archives, model weights,
sockets, documents, images): not a dotted name that a quote also holds, a host
(``'karpenter.sh'``, ``"api.lab.internal"``), a setting or a logger (``"pipeline.batch.size"``,
``'authentik.lib.config'``), an API group and version (``"kubeflow.org/v1"``), a media type
(``"text/html"``); and the quotes must match around the name alone, so a quoted sentence that
ends with a file keeps its words. Quotes escaped inside a quoted message count as quotes
(``msg="... ConfigMap \\"kube-root-ca.crt\\" already exists"``: logrus and klog print an error's
own quotes so; Velero, holdout15). An unquoted name a program writes as its own constant
(PostgreSQL's ``Connection matched pg_hba.conf line 99``) stays as written.
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

FILE_TYPES = (
    "ya?ml|json[l5]?|toml|ini|cfg|conf|properties|xml|lock|env|"  # configuration and state
    "csv|tsv|parquet|avro|orc|arrow|feather|sql|db|sqlite3?|"  # data
    "txt|log|out|err|md|rst|pdf|html?|"  # text and documents
    "gz|tgz|bz2|xz|zst|zip|tar|7z|rar|"  # archives
    "pt|pth|ckpt|safetensors|gguf|onnx|h5|pkl|pickle|npy|npz|bin|"  # model weights, arrays
    "pem|crt|cer|der|p12|jks|"  # certificates and key stores
    "sock|socket|pid|"  # runtime files
    "png|jpe?g|gif|webp|svg|mp4|wav|"  # media
    "ear|war|jar|whl|deb|rpm"  # packages
)
"""Extensions of files a program reads, writes or serves, lower-case: the kinds the
development directories' quoted names hold, and their neighbours in the same families. No
country-code domain that names hosts in logs (``.sh``, ``.io``, ``.ai``, ``.me``): a host in
quotes is masked or kept by the host rules, not here."""

_QUOTED_FILE = re.compile(
    r"(?<![\w\\])(\\?['\"])"
    r"((?:[\w\-][\w.\-]*/)*[\w\-][\w.\-]*\.(?:" + FILE_TYPES + r"))"
    r"\1(?![\w'\"])"
)


def mask_quoted_files(content: str) -> str:
    """``content`` with each quoted file name (with or without a relative directory before it)
    replaced by ``<*>`` inside its quotes. Callers test for a quote first."""
    return _QUOTED_FILE.sub(r"\1" + WILDCARD + r"\1", content)
