"""A dot leader is one value (holdout28): dbt pads each step's name with dots to its status
column (``1 of 12 START sql view model staging.stg_orders ........ [RUN]``), as Maven's reactor
summary and init scripts do; the run's length follows the name's, so a template that kept it
split one statement into one cluster per length (dbt's GA 0.379). An ellipsis and dots glued to
a word stay (:mod:`vigil.logs._leaders`)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._leaders import mask_leaders
from vigil.logs._tokens import mask


def test_a_dot_leader_is_masked_as_a_value() -> None:
    line = "1 of 12 START sql view model staging.stg_orders ...................... [RUN]"
    assert mask(line) == "<*> of <*> START sql view model staging.stg_orders <*> [RUN]"
    line = "[INFO] vigil-core ........................................ SUCCESS [  2.345 s]"
    assert mask(line) == "[INFO] vigil-core <*> SUCCESS [  <*> s]"
    assert mask("....") == "<*>"


def test_the_steps_of_one_statement_group_whatever_their_leaders_length() -> None:
    miner = TemplateMiner()
    ids = {
        miner.add(
            f"{n} of 12 START sql table model {name} {'.' * (60 - len(name))} [RUN]"
        ).cluster_id
        for n, name in enumerate(
            ["features.item_popularity", "features.user_embeddings", "features.sessions"], 1
        )
    }
    assert len(ids) == 1
    template = miner.templates()[0].template
    assert template == "<*> of <*> START sql table model <*> <*> [RUN]"


def test_an_ellipsis_and_glued_dots_stay() -> None:
    assert mask("shutting down ...") == "shutting down ..."
    assert mask("Trying to recover...") == "Trying to recover..."
    for text in ("Applying auth.0001_initial... OK", "cd ../../lib", "waiting.....done", ". . . ."):
        assert mask_leaders(text) == text
