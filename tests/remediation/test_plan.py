"""render_argv and plan_replica: from a configured service to a concrete replica plan."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from vigil.errors import ConfigError
from vigil.remediation import _plan, plan_replica, render_argv
from vigil.settings import LogSettings, Service

VALUES: dict[str, str | int] = {"port": 9101, "index": 1, "replica": "llm/1", "service": "llm"}


def test_every_placeholder_is_substituted_in_a_list_command() -> None:
    argv = render_argv(
        ["serve", "--port={port}", "--name", "{service}-{index}", "--id", "{replica}"], VALUES
    )
    assert argv == ["serve", "--port=9101", "--name", "llm-1", "--id", "llm/1"]


def test_a_list_command_is_not_split_on_spaces() -> None:
    assert render_argv(["echo", "a b {port}"], VALUES) == ["echo", "a b 9101"]


def test_a_string_command_is_split_like_a_shell_with_quotes_kept_together() -> None:
    argv = render_argv("""serve --port {port} --banner "replica {replica} up" --x 'a  b'""", VALUES)
    assert argv == ["serve", "--port", "9101", "--banner", "replica llm/1 up", "--x", "a  b"]


def test_a_string_command_runs_no_shell_so_operators_are_plain_words() -> None:
    assert render_argv("serve {port} && rm -rf $HOME", VALUES) == [
        "serve",
        "9101",
        "&&",
        "rm",
        "-rf",
        "$HOME",
    ]


def test_doubled_braces_are_literal_braces() -> None:
    argv = render_argv(["python", "-c", "print({{'port': {port}}})"], VALUES)
    assert argv == ["python", "-c", "print({'port': 9101})"]


@pytest.mark.parametrize(
    ("word", "named"),
    [
        ("--model={model}", "'model'"),
        ("{0}", "positional"),
        ("{port", "expected '}'"),
        ("}", "Single '}'"),
        ("{port.real}", "real"),
        ("{port[x]}", "string indices"),
    ],
)
def test_an_unknown_or_malformed_placeholder_is_a_config_error_naming_the_word(
    word: str, named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        render_argv(["serve", word], VALUES)
    [problem] = caught.value.problems
    assert problem.startswith(f"command word {word!r}: unknown placeholder")
    assert named in problem
    assert "{{ and }}" in problem  # tells how to write a literal brace


def llm(**overrides: object) -> Service:
    fields: dict[str, object] = {
        "name": "llm",
        "command": "serve --port {port} --replica {replica}",
        "base_port": 9100,
        "env": {"MODEL": "llama", "PORT": "1"},
        "node": "gpu-01",
        "cwd": "/srv/llm",
        "logs": LogSettings(max_bytes=4096, keep=2),
    }
    fields.update(overrides)
    return Service.model_validate(fields)


def test_a_replica_listens_on_base_port_plus_its_index(tmp_path: Path) -> None:
    plan = plan_replica(llm(), 2, log_dir=tmp_path)
    assert plan.id == "llm/2"
    assert plan.index == 2
    assert plan.port == 9102
    assert plan.node == "gpu-01"
    assert plan.spec.replica == "llm/2"
    assert list(plan.spec.argv) == ["serve", "--port", "9102", "--replica", "llm/2"]
    assert plan.spec.cwd == "/srv/llm"
    assert (plan.spec.log_max_bytes, plan.spec.log_keep) == (4096, 2)


def test_a_port_known_from_an_earlier_run_wins_over_base_port(tmp_path: Path) -> None:
    plan = plan_replica(llm(), 1, log_dir=tmp_path, port=9555)
    assert plan.port == 9555
    assert "9555" in plan.spec.argv
    assert plan.spec.env["PORT"] == "9555"


def test_without_base_port_the_os_picks_a_free_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_plan, "free_port", lambda host="127.0.0.1": 40123)
    plan = plan_replica(llm(base_port=0), 3, log_dir=tmp_path)
    assert plan.port == 40123
    assert plan.spec.env["PORT"] == "40123"


def test_port_env_is_set_over_the_service_env_and_extra_env_is_merged(tmp_path: Path) -> None:
    plan = plan_replica(
        llm(), 0, log_dir=tmp_path, extra_env={"VIGIL_NODE": "gpu-01", "MODEL": "mistral"}
    )
    assert dict(plan.spec.env) == {"MODEL": "mistral", "PORT": "9100", "VIGIL_NODE": "gpu-01"}
    assert dict(plan.extra_env) == {"VIGIL_NODE": "gpu-01", "MODEL": "mistral"}


def test_each_replica_logs_to_its_own_file_in_the_log_dir(tmp_path: Path) -> None:
    paths = {plan_replica(llm(), i, log_dir=tmp_path).spec.log_path for i in range(3)}
    assert paths == {str(tmp_path / f"llm-{i}.log") for i in range(3)}


def test_the_python_placeholder_is_the_interpreter_running_vigil(tmp_path: Path) -> None:
    plan = plan_replica(llm(command=["{python}", "-m", "server"]), 0, log_dir=tmp_path)
    assert list(plan.spec.argv) == [sys.executable, "-m", "server"]


def test_a_bad_placeholder_is_a_config_error_naming_the_word() -> None:
    with pytest.raises(ConfigError, match=re.escape("'--gpu={gpu}'")):
        render_argv("serve --gpu={gpu}", VALUES)


def test_a_service_with_a_bad_placeholder_is_refused_when_the_config_is_loaded() -> None:
    with pytest.raises(ValueError, match=re.escape("unknown placeholder(s) ['gpu']")):
        llm(command="serve --gpu={gpu}")


def test_an_unclosed_quote_in_a_string_command_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="quot"):
        render_argv('serve --banner "hello', VALUES)


@pytest.mark.parametrize("word", ["{}", "x{}y", "{port!z}", "{port:05d}"])
def test_a_word_that_render_argv_cannot_fill_is_refused_when_the_config_is_loaded(
    word: str,
) -> None:
    # check-config said these were fine, then `vigil up` failed at the first spawn
    with pytest.raises(ConfigError):
        render_argv(["serve", word], VALUES)
    with pytest.raises(ValueError, match=re.escape(f"command word {word!r} cannot be filled in")):
        llm(command=["serve", word])


def test_placeholders_with_a_format_a_string_takes_are_accepted(tmp_path: Path) -> None:
    plan = plan_replica(llm(command=["serve", "--name={service:>5}"]), 0, log_dir=tmp_path)
    assert list(plan.spec.argv) == ["serve", "--name=  llm"]
