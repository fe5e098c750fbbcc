"""gcpause: collection paused while a stage builds objects that live on; cycles a stage leaves
behind collected after it, scanning only what it made."""

from __future__ import annotations

import gc
import weakref

from generator.gcpause import collecting_after, paused_collection


class Node:
    def __init__(self):
        self.me = self  # a cycle: only the cyclic collector frees it


def test_cycles_left_by_a_stage_are_collected_after_it_even_while_collection_is_paused():
    kept = Node()  # made before: frozen during the stage, still alive after
    refs = []

    @collecting_after
    def stage():
        garbage = Node()
        refs.append(weakref.ref(garbage))
        return "done"

    @paused_collection
    def build():
        assert not gc.isenabled()
        assert stage() == "done"
        assert refs[0]() is None  # the stage's cycle is gone at once
        assert not gc.isenabled() and gc.get_freeze_count() == 0  # nothing left frozen

    build()
    assert kept.me is kept
