"""Stage graphs as data: which stage waits for which, per direction, overridable per gate.

A definition is checked when it is built, so a bad graph fails at start-up, not on the
500th truck: every stage is known, there is no cycle, every stage is reachable from an
entry stage (where the truck arrives) and every stage can reach an exit stage (after
which the truck may leave).
"""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct

from workflows.model import Direction, Stage


class DefinitionError(ValueError):
    """A stage graph that cannot work; the message names the gate, direction and fault."""


#: Which automated screening decides about each stage; the yard has none.
SCREENED_BY: dict[Stage, str | None] = {
    Stage.YARD: None,
    Stage.CUSTOMS: "customs",
    Stage.PLANT_QUARANTINE: "quarantine",
    Stage.ANIMAL_QUARANTINE: "quarantine",
    Stage.HEALTH_QUARANTINE: "quarantine",
    Stage.BORDER_GUARD: "border_guard",
}


class WorkflowDefinition(Struct, frozen=True):
    """The stages of one direction at one gate and what each waits for."""

    name: str
    direction: Direction
    depends_on: dict[Stage, tuple[Stage, ...]]

    @property
    def stages(self) -> tuple[Stage, ...]:
        return topological_order(self.depends_on)

    @property
    def entry_stages(self) -> tuple[Stage, ...]:
        """Stages that wait for nothing: passing one means the truck has arrived."""
        return tuple(s for s in self.stages if not self.depends_on[s])

    @property
    def exit_stages(self) -> tuple[Stage, ...]:
        """Stages nothing waits for: once all are done the truck may leave."""
        waited_for = {p for preds in self.depends_on.values() for p in preds}
        return tuple(s for s in self.stages if s not in waited_for)

    @property
    def screenings(self) -> tuple[str, ...]:
        """The automated screenings this workflow needs, in a stable order."""
        return screenings_for(self.stages)

    def successors(self, stage: Stage) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if stage in self.depends_on[s])


_STAGE_ORDER = list(Stage)


def topological_order(depends_on: Mapping[Stage, tuple[Stage, ...]]) -> tuple[Stage, ...]:
    """Stages ordered so each comes after what it waits for; raises on a cycle."""
    order: list[Stage] = []
    state: dict[Stage, int] = {}  # 1 = visiting, 2 = done

    def visit(stage: Stage, path: tuple[Stage, ...]) -> None:
        if state.get(stage) == 2:
            return
        if state.get(stage) == 1:
            cycle = " → ".join(s.value for s in (*path[path.index(stage) :], stage))
            raise DefinitionError(f"cycle in the stage graph: {cycle}")
        state[stage] = 1
        for pred in sorted(depends_on.get(stage, ()), key=_STAGE_ORDER.index):
            visit(pred, (*path, stage))
        state[stage] = 2
        order.append(stage)

    for stage in sorted(depends_on, key=_STAGE_ORDER.index):
        visit(stage, ())
    return tuple(order)


def build_definition(
    name: str, direction: Direction | str, depends_on: Mapping[str, list[str] | tuple[str, ...]]
) -> WorkflowDefinition:
    """Parse and check a stage graph given as plain data (e.g. from a gate's TOML file)."""
    where = f"workflow {name!r} ({direction})"
    try:
        direction = Direction(direction)
    except ValueError:
        raise DefinitionError(f"{where}: unknown direction {direction!r}") from None
    graph: dict[Stage, tuple[Stage, ...]] = {}
    for raw_stage, raw_preds in depends_on.items():
        try:
            stage = Stage(raw_stage)
            preds = tuple(Stage(p) for p in raw_preds)
        except ValueError as exc:
            known = ", ".join(s.value for s in Stage)
            raise DefinitionError(f"{where}: {exc}; known stages: {known}") from None
        if stage in preds:
            raise DefinitionError(f"{where}: stage {stage} waits for itself")
        if len(set(preds)) != len(preds):
            raise DefinitionError(f"{where}: stage {stage} lists a predecessor twice")
        graph[stage] = preds
    for stage, preds in graph.items():
        for pred in preds:
            if pred not in graph:
                raise DefinitionError(
                    f"{where}: stage {stage} waits for {pred}, which is not in the workflow"
                )
    for required in (Stage.YARD, Stage.BORDER_GUARD):
        if required not in graph:
            raise DefinitionError(f"{where}: every workflow needs the {required} stage")
    try:
        topological_order(graph)
    except DefinitionError as exc:
        raise DefinitionError(f"{where}: {exc}") from None
    definition = WorkflowDefinition(name=name, direction=direction, depends_on=graph)
    _check_reachability(definition, where)
    return definition


def _check_reachability(definition: WorkflowDefinition, where: str) -> None:
    graph = definition.depends_on
    entries = definition.entry_stages
    if len(entries) == 0:
        raise DefinitionError(f"{where}: no entry stage (every stage waits for another)")
    # Forward reachability from the entry stages.
    reached: set[Stage] = set(entries)
    frontier = list(entries)
    while frontier:
        stage = frontier.pop()
        for succ in definition.successors(stage):
            if succ not in reached:
                reached.add(succ)
                frontier.append(succ)
    unreachable = sorted(set(graph) - reached)
    if unreachable:
        names = ", ".join(s.value for s in unreachable)
        raise DefinitionError(f"{where}: unreachable from the entry stages: {names}")
    # Backward reachability from the exit stages.
    exits = definition.exit_stages
    can_finish: set[Stage] = set(exits)
    frontier = list(exits)
    while frontier:
        stage = frontier.pop()
        for pred in graph[stage]:
            if pred not in can_finish:
                can_finish.add(pred)
                frontier.append(pred)
    stuck = sorted(set(graph) - can_finish)
    if stuck:
        names = ", ".join(s.value for s in stuck)
        raise DefinitionError(f"{where}: cannot reach an exit stage: {names}")


_QUARANTINE = ["customs", "plant_quarantine", "animal_quarantine", "health_quarantine"]

#: Export: yard gate-in, then customs and the quarantines in parallel, then the border guard.
DEFAULT_EXPORT = {
    "yard": [],
    "customs": ["yard"],
    "plant_quarantine": ["yard"],
    "animal_quarantine": ["yard"],
    "health_quarantine": ["yard"],
    "border_guard": _QUARANTINE,
}

#: Import mirrors it: the border guard admits the truck, then yard, then the agencies.
DEFAULT_IMPORT = {
    "border_guard": [],
    "yard": ["border_guard"],
    "customs": ["yard"],
    "plant_quarantine": ["yard"],
    "animal_quarantine": ["yard"],
    "health_quarantine": ["yard"],
}

DEFAULT_GRAPHS: dict[Direction, dict[str, list[str]]] = {
    Direction.EXPORT: DEFAULT_EXPORT,
    Direction.IMPORT: DEFAULT_IMPORT,
}


def default_definitions() -> dict[Direction, WorkflowDefinition]:
    return {
        direction: build_definition(f"default-{direction.value}", direction, graph)
        for direction, graph in DEFAULT_GRAPHS.items()
    }


def screenings_for(stages: object) -> tuple[str, ...]:
    """The automated screenings the given stages need, in workflow order, each once."""
    seen: dict[str, None] = {}
    for stage in stages:  # type: ignore[attr-defined]
        if (agency := SCREENED_BY[stage]) is not None:
            seen[agency] = None
    return tuple(seen)
