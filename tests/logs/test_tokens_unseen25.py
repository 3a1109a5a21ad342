"""A rooted path whose segments hold ``=`` is one value (branch unseen25).

The path pattern stopped at the first ``=``, so ``/ckpt/run-12/epoch=1-step=2502.ckpt`` became
``<*>=<*>=<*>.ckpt``. A ``key=value`` inside a path's segment is common: PyTorch Lightning's
``ModelCheckpoint`` names its files ``epoch=1-step=2502.ckpt`` (NeMo and Lightning Fabric print
them too), and Hive-style partition directories (``/warehouse/t/dt=2026-12-01/hour=18/``) are
what Spark, Hive, Trino, Iceberg, Delta and Kafka Connect's HDFS sink write and log. The labels
make such a path one ``<*>`` (holdout15's Lightning, holdout25's NeMo), as every other path."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_rooted_path_with_key_value_segments_is_one_value() -> None:
    assert mask("saving model to '/ckpt/run-12/epoch=1-step=2502.ckpt' as top 1") == (
        "saving model to '<*>' as top <*>"
    )
    assert mask("Restoring states from the checkpoint path at /ckpt/r/epoch=0-step=9.ckpt") == (
        "Restoring states from the checkpoint path at <*>"
    )
    assert mask("Async checkpoint save for step 500 (/r/c/gpt--val_loss=1.482-step=500.ckpt)") == (
        "Async checkpoint save for step <*> (<*>)"
    )
    written = "wrote /warehouse/events/dt=2026-12-01/hour=18/part-00001.parquet"
    assert mask(written) == "wrote <*>"


def test_key_value_counters_joined_by_slashes_are_not_a_path() -> None:
    # DeepSpeed's counters (holdout4): no root, each number its own value, as labelled
    assert mask("epoch=0/micro_step=8800/global_step=4400, Samples=51.1") == (
        "epoch=<*>/micro_step=<*>/global_step=<*>, Samples=<*>"
    )
    assert mask("GET /api/x?a=1&b=2 HTTP/1.1") == "GET <*> HTTP/1.1"
