"""Agent tokens are looked up by digest: right at fleet size, shared tokens cover their nodes."""

from __future__ import annotations

from vigil.api._context import TokenTable
from vigil.settings import AgentToken, ApiToken


def test_a_thousand_agent_tokens_each_find_their_own_node() -> None:
    agents = [AgentToken(node=f"n{i}", token=f"agent-token-{i:04d}-abcdef") for i in range(1000)]
    table = TokenTable([], agents)
    assert [table.agent_nodes(f"agent-token-{i:04d}-abcdef") for i in (0, 1, 999)] == [
        frozenset({"n0"}),
        frozenset({"n1"}),
        frozenset({"n999"}),
    ]
    assert table.agent_nodes("agent-token-1000-abcdef") == frozenset()
    assert table.agent_nodes("") == frozenset()


def test_one_token_configured_for_two_nodes_reports_for_both_and_is_no_api_token() -> None:
    shared = "shared-agent-token-0123456789"
    table = TokenTable(
        [ApiToken(name="ada", role="admin", token="admin-token-0123456789")],
        [AgentToken(node="a", token=shared), AgentToken(node="b", token=shared)],
    )
    assert table.agent_nodes(shared) == frozenset({"a", "b"})
    assert table.api_identity(shared) is None
    assert table.agent_nodes("admin-token-0123456789") == frozenset()
