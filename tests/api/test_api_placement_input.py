"""Placement needs that cannot mean what they say are refused naming the field (422), not
placed as something else."""

from __future__ import annotations

import httpx
from apifakes import bearer

OPS = bearer("operator")


async def test_gpu_memory_without_gpus_is_a_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    # gpu_memory_mb is per GPU and was only checked for GPU tasks: {"gpu_memory_mb": 40000}
    # alone was placed (200) as a task needing no GPU at all, on any node, GPUs or none
    resp = await client.post("/api/v1/placements", headers=OPS, json={"gpu_memory_mb": 40000})
    assert resp.status_code == 422, resp.text
    assert resp.json() == {
        "detail": "body.gpu_memory_mb: is memory per GPU, and gpus is 0: give gpus too, or "
        "leave gpu_memory_mb out (got 40000)"
    }


async def test_gpu_memory_with_gpus_is_still_placed(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/v1/placements", headers=OPS, json={"gpus": 1, "gpu_memory_mb": 0}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["node"] == "node-a"
