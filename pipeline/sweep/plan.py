"""Plan first: every member's keys, then each distinct (stage, key) computed exactly once.

A stage's key covers its upstream keys, so when two members share a stage's key they share
everything upstream of it too: the members' stages form a forest of (stage, key) nodes. A node
that is not cached and that more than one member needs becomes a *stage task* of its own
(computed once, before the members that need it); what only one member needs is computed by
that member's own task, which also writes its run directory. A member whose nodes are all
cached needs no worker at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.cache.store import Cache
from pipeline.config import Config
from pipeline.registry import STAGES, Stage, upstream
from pipeline.sweep.grid import Member

Node = tuple[str, str]  # (stage name, key)


@dataclass
class StageTask:
    """One shared (stage, key) to compute once, with a config of a member that needs it."""

    node: Node
    config: Config
    needs: set[Node]                       # other stage tasks that must finish first
    members: list[int] = field(default_factory=list)


@dataclass
class MemberTask:
    """One member: its keys, and the stage tasks it waits for."""

    member: Member
    keys: dict[str, str]
    needs: set[Node]
    cached: bool                            # every node already in the cache


@dataclass
class SweepPlan:
    """Stage tasks and member tasks of a sweep, and what is cached already."""

    stages: dict[Node, StageTask]
    members: list[MemberTask]
    cached: set[Node]
    nodes: dict[Node, list[int]]           # every distinct node -> indices of the members using it

    def summary(self) -> dict[str, int]:
        """Counts: distinct nodes, cached ones, shared ones computed once, member-own ones."""
        own = sum(1 for n, users in self.nodes.items() if n not in self.cached and n not in self.stages)
        return {"nodes": len(self.nodes), "cached": len(self.cached), "shared": len(self.stages), "own": own}


def build(members: Sequence[Member], keys_of: Any, cache: Cache,
          stages: tuple[Stage, ...] = STAGES) -> SweepPlan:
    """Plan a sweep.

    Parameters
    ----------
    members : sequence of Member
        The sweep's members, configs validated.
    keys_of : callable
        ``keys_of(config) -> {stage: key}`` (the runner's plan; unknown plugins raise here).
    cache : Cache
        Looked up with one ``stat`` per distinct node.
    """
    member_keys = [keys_of(m.config) for m in members]
    nodes: dict[Node, list[int]] = {}
    first_config: dict[Node, Config] = {}
    for i, keys in enumerate(member_keys):
        for stage in stages:
            node = (stage.name, keys[stage.name])
            nodes.setdefault(node, []).append(i)
            first_config.setdefault(node, members[i].config)
    cached = {node for node in nodes if cache.has(*node)}
    shared = {node for node, users in nodes.items() if node not in cached and len(users) > 1}
    tasks = {}
    for node in sorted(shared, key=lambda n: [s.name for s in stages].index(n[0])):
        keys = member_keys[nodes[node][0]]
        stage = next(s for s in stages if s.name == node[0])
        needs = {(u, keys[u]) for u in upstream(stage, stages)} & shared
        tasks[node] = StageTask(node, first_config[node], needs, nodes[node])
    plans = []
    for member, keys in zip(members, member_keys):
        mine = {(s.name, keys[s.name]) for s in stages}
        plans.append(MemberTask(member, keys, mine & shared, mine <= cached))
    return SweepPlan(tasks, plans, cached, nodes)
