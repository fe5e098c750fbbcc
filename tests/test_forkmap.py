"""forkmap.fork_map: the same results as one process, in order, whatever a helper does."""

from __future__ import annotations

import os
import signal

import pytest

import generator.forkmap as forkmap
from generator.forkmap import fork_map

ITEMS = list(range(500))


def square(n: int) -> list:
    return [n, n * n, os.getpid()]


def test_results_in_order_and_shared_out():
    parent = os.getpid()
    results = fork_map(square, ITEMS, jobs=3)
    assert [r[:2] for r in results] == [[n, n * n] for n in ITEMS]
    pids = {r[2] for r in results}
    assert parent in pids and len(pids) == 3  # this process and two helpers each did a share


def test_few_items_or_one_job_stay_in_this_process():
    assert {r[2] for r in fork_map(square, ITEMS[:10])} == {os.getpid()}
    assert {r[2] for r in fork_map(square, ITEMS, jobs=1)} == {os.getpid()}


@pytest.mark.parametrize("failure", ["raises", "killed", "exits"])
def test_a_failing_helper_has_its_share_done_here(failure):
    parent = os.getpid()

    def fragile(n: int) -> list:
        if os.getpid() != parent and n == 7:
            if failure == "raises":
                raise RuntimeError("boom")
            if failure == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(0)  # leaves with success before sending anything
        return square(n)

    results = fork_map(fragile, ITEMS, jobs=2)
    assert [r[:2] for r in results] == [[n, n * n] for n in ITEMS]
    assert {r[2] for r in results[1::2]} == {parent}  # the helper's share (odd items), redone here


def test_garbled_results_are_not_trusted(monkeypatch):
    class Garbling:
        JSONDecodeError = forkmap.orjson.JSONDecodeError
        loads = staticmethod(forkmap.orjson.loads)

        @staticmethod
        def dumps(value):
            return b'{"not": "a list"}' if os.getpid() != parent else forkmap.orjson.dumps(value)

    parent = os.getpid()
    monkeypatch.setattr(forkmap, "orjson", Garbling)
    results = fork_map(square, ITEMS, jobs=2)
    assert [r[:2] for r in results] == [[n, n * n] for n in ITEMS]
    assert {r[2] for r in results} == {parent}
