"""The ``logs:`` section of vigil.yaml: defaults, units, and problems named as file:line."""

from __future__ import annotations

import re
from textwrap import dedent

import pytest

from vigil.errors import ConfigError
from vigil.logs import PRESETS
from vigil.settings import FORMAT_PRESETS, Settings, parse_settings


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(dedent(text), source="vigil.yaml")
    return info.value.problems


def test_the_logs_section_has_defaults_and_takes_units() -> None:
    assert Settings().logs.sources == []
    settings = parse_settings(
        dedent(
            """\
            nodes: [{name: local}, {name: gpu-01}]
            logs:
              sources:
                - {path: /var/log/vllm.log, node: gpu-01, format: syslog}
                - {path: /var/log/ctl.log, name: ctl}
              ship_every: 2s
              push_max_bytes: 2MB
              analysis: {warmup_seconds: 5m, incident_severity: warning}
            """
        ),
        source="vigil.yaml",
    )
    logs = settings.logs
    assert [s.label for s in logs.for_node("gpu-01")] == ["vllm.log"]
    assert [s.label for s in logs.for_node(None)] == ["ctl"]
    assert (logs.ship_every, logs.push_max_bytes) == (2.0, 2 * 1024 * 1024)
    assert logs.analysis.warmup_seconds == 300.0


def test_log_problems_name_their_line_and_the_fix() -> None:
    found = problems(
        """\
        nodes: [{name: local}]
        logs:
          sources:
            - path: /var/log/a.log
              node: gpu-09
            - path: /var/log/b.log
              format: "<Date> <Time> <Level>"
            - path: /var/log/a.log
              node: gpu-09
          analysis:
            incident_severity: sometimes
        """
    )
    assert found[0].startswith("vigil.yaml:7: logs.sources[1].format: ")
    assert "has no <Content> field" in found[0]
    assert found[1].startswith("vigil.yaml:11: logs.analysis.incident_severity: ")


def test_sources_on_unknown_nodes_and_twice_on_a_node_are_refused() -> None:
    found = problems(
        """\
        nodes: [{name: local}]
        logs:
          sources:
            - path: /var/log/a.log
              node: gpu-09
            - path: /var/log/a.log
              node: gpu-09
        """
    )
    assert found == [
        "vigil.yaml:5: logs.sources[0].node: no node named 'gpu-09': add it to nodes or use "
        "one of ['local'] (omit node to follow the file on the controller)",
        "vigil.yaml:6: logs.sources[1].path: same path as logs.sources[0] on the same node: "
        "give each source its own file and name",
        "vigil.yaml:7: logs.sources[1].node: no node named 'gpu-09': add it to nodes or use "
        "one of ['local'] (omit node to follow the file on the controller)",
    ]


def test_the_settings_know_every_preset_of_the_log_headers() -> None:
    assert set(PRESETS) == FORMAT_PRESETS


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/var/log/vllm.log", "vllm.log"),
        ("/var/log/_my app.log", "log_my_app.log"),
        ("/var/log/état.log", "log_tat.log"),
        ("/var/log/" + "x" * 80 + ".log", "x" * 63),
    ],
)
def test_a_source_without_a_name_is_labelled_as_the_api_takes_it(path: str, label: str) -> None:
    [source] = parse_settings(f"logs:\n  sources:\n    - path: '{path}'\n").logs.sources
    assert source.label == label
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", source.label)
