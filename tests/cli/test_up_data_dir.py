"""`vigil up` with a data_dir it cannot use (a file, a place it cannot create) says so naming
data_dir and the fix (real subprocess), not 'cannot open the lock file ...: File exists'."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli


@pytest.mark.parametrize(
    ("data_dir", "problem"),
    [
        (
            "afile",
            "vigil up: data_dir: {d} is a file, not a directory: point data_dir at a directory "
            "(or move the file away)",
        ),
        (
            "afile/sub",
            "vigil up: data_dir: cannot create {d} (Not a directory): point data_dir at a "
            "directory this user can create and write",
        ),
    ],
    ids=["a-file", "under-a-file"],
)
def test_a_data_dir_that_cannot_be_used_is_named(
    cli: Cli, tmp_path: Path, data_dir: str, problem: str
) -> None:
    (tmp_path / "afile").write_text("not a directory\n")
    (tmp_path / "vigil.yaml").write_text(f"data_dir: {data_dir}\napi: {{port: 0}}\n")
    done = cli("up", "-c", "vigil.yaml", columns=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == problem.format(d=tmp_path / data_dir)
