"""Stage graphs: every fault of a definition is refused with a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from border_gate.gates import GateConfigError, load_gates
from workflows.definitions import (
    DEFAULT_EXPORT,
    DEFAULT_IMPORT,
    DefinitionError,
    build_definition,
    default_definitions,
    topological_order,
)
from workflows.model import Direction, Stage

QUARANTINES = ["plant_quarantine", "animal_quarantine", "health_quarantine"]


def refused(graph: dict[str, list[str]], direction: str = "export") -> str:
    """The message of the DefinitionError the graph gets; it always names the workflow."""
    with pytest.raises(DefinitionError) as caught:
        build_definition("TAN_THANH-export", direction, graph)
    message = str(caught.value)
    assert "'TAN_THANH-export'" in message
    return message


def test_a_cycle_is_refused_and_drawn() -> None:
    message = refused(
        {"yard": [], "customs": ["yard", "border_guard"], "border_guard": ["customs"]}
    )
    assert "cycle" in message
    assert "customs → border_guard → customs" in message


def test_stages_cut_off_from_the_entry_are_refused() -> None:
    # In an acyclic graph every stage descends from an entry stage, so stages that cannot
    # be reached from the yard must wait for each other: they are reported as that loop.
    message = refused(
        {
            "yard": [],
            "border_guard": ["yard", "plant_quarantine"],
            "plant_quarantine": ["animal_quarantine"],
            "animal_quarantine": ["plant_quarantine"],
        }
    )
    assert "cycle" in message
    assert "plant_quarantine" in message and "animal_quarantine" in message


def test_every_stage_waiting_for_another_leaves_no_entry() -> None:
    message = refused({"yard": ["border_guard"], "border_guard": ["yard"]})
    assert "cycle" in message
    assert "yard" in message and "border_guard" in message


def test_an_unknown_stage_is_refused_with_the_known_ones() -> None:
    message = refused({"yard": [], "veterinary": ["yard"], "border_guard": ["yard", "veterinary"]})
    assert "'veterinary'" in message
    assert "known stages: yard, customs" in message


def test_waiting_for_an_unknown_stage_is_refused() -> None:
    message = refused({"yard": [], "border_guard": ["yard", "weighbridge"]})
    assert "'weighbridge'" in message


def test_waiting_for_a_stage_missing_from_the_workflow_is_refused() -> None:
    message = refused({"yard": [], "border_guard": ["yard", "customs"]})
    assert "border_guard waits for customs, which is not in the workflow" in message


@pytest.mark.parametrize("missing", ["yard", "border_guard"])
def test_yard_and_border_guard_are_required(missing: str) -> None:
    graph = {s: [p for p in preds if p != missing] for s, preds in DEFAULT_EXPORT.items()}
    del graph[missing]
    message = refused(graph)
    assert f"every workflow needs the {missing} stage" in message


def test_a_stage_waiting_for_itself_is_refused() -> None:
    message = refused({"yard": [], "customs": ["customs"], "border_guard": ["customs"]})
    assert "stage customs waits for itself" in message


def test_a_predecessor_listed_twice_is_refused() -> None:
    message = refused({"yard": [], "customs": ["yard", "yard"], "border_guard": ["customs"]})
    assert "stage customs lists a predecessor twice" in message


def test_an_unknown_direction_is_refused() -> None:
    message = refused({"yard": [], "border_guard": ["yard"]}, direction="sideways")
    assert "unknown direction 'sideways'" in message


def test_a_stage_named_twice_in_a_gates_file_is_refused(tmp_path: Path) -> None:
    # A mapping cannot hold a stage twice; in the gates file TOML itself refuses it.
    path = tmp_path / "gates.toml"
    path.write_text(
        '[[gate]]\ncode = "CHI_MA"\nprefix = "CM"\nname_vi = "Chi Ma"\nname_en = "Chi Ma"\n'
        "[gate.workflow.export]\n"
        'yard = []\ncustoms = ["yard"]\ncustoms = ["yard"]\nborder_guard = ["customs"]\n',
        encoding="utf-8",
    )
    with pytest.raises(GateConfigError, match=r"gates.toml: .*line 9"):
        load_gates(path)


# --- The defaults and the order ---------------------------------------------------------------


def test_the_defaults_validate() -> None:
    definitions = default_definitions()
    export, import_ = definitions[Direction.EXPORT], definitions[Direction.IMPORT]
    assert export.direction is Direction.EXPORT and import_.direction is Direction.IMPORT
    assert set(export.stages) == set(Stage) == set(import_.stages)
    assert export.entry_stages == (Stage.YARD,)
    assert export.exit_stages == (Stage.BORDER_GUARD,)
    assert import_.entry_stages == (Stage.BORDER_GUARD,)
    assert set(import_.exit_stages) == {
        Stage.CUSTOMS,
        Stage.PLANT_QUARANTINE,
        Stage.ANIMAL_QUARANTINE,
        Stage.HEALTH_QUARANTINE,
    }
    assert export.screenings == ("customs", "quarantine", "border_guard")
    assert import_.screenings == ("border_guard", "customs", "quarantine")


@pytest.mark.parametrize("graph", [DEFAULT_EXPORT, DEFAULT_IMPORT], ids=["export", "import"])
def test_the_order_puts_each_stage_after_what_it_waits_for(graph: dict[str, list[str]]) -> None:
    definition = build_definition("default", "export", graph)
    position = {stage: i for i, stage in enumerate(definition.stages)}
    for stage, preds in definition.depends_on.items():
        assert all(position[p] < position[stage] for p in preds), stage


@st.composite
def acyclic_graphs(draw: st.DrawFn) -> dict[Stage, tuple[Stage, ...]]:
    """A random DAG over yard, border guard and some other stages, in a random order."""
    others = draw(st.lists(st.sampled_from(list(Stage)[1:5]), unique=True))
    order = draw(st.permutations([Stage.YARD, Stage.BORDER_GUARD, *others]))
    graph: dict[Stage, tuple[Stage, ...]] = {}
    for i, stage in enumerate(order):
        earlier = order[:i]
        graph[stage] = (
            tuple(draw(st.lists(st.sampled_from(earlier), unique=True))) if earlier else ()
        )
    return graph


@settings(max_examples=200, deadline=None)
@given(acyclic_graphs())
def test_any_acyclic_graph_validates_and_orders_by_dependency(
    graph: dict[Stage, tuple[Stage, ...]],
) -> None:
    raw = {stage.value: [p.value for p in preds] for stage, preds in reversed(graph.items())}
    definition = build_definition("random", Direction.EXPORT, raw)
    order = definition.stages
    assert sorted(order) == sorted(graph)
    assert order == topological_order(graph)  # the same graph, the same order
    for stage, preds in graph.items():
        assert all(order.index(p) < order.index(stage) for p in preds)
    waited_for = {p for preds in graph.values() for p in preds}
    assert set(definition.entry_stages) == {s for s, preds in graph.items() if not preds}
    assert set(definition.exit_stages) == set(graph) - waited_for


@settings(max_examples=200, deadline=None)
@given(acyclic_graphs(), st.data())
def test_any_back_edge_is_refused_as_a_cycle(
    graph: dict[Stage, tuple[Stage, ...]], data: st.DataObject
) -> None:
    order = topological_order(graph)
    # Find a path a → … → b (b waits for a, directly or not) and make a wait for b too.
    pairs = [(a, b) for b in order for a in graph[b]]
    if not pairs:
        return
    a, b = data.draw(st.sampled_from(pairs))
    raw = {stage.value: [p.value for p in preds] for stage, preds in graph.items()}
    raw[a.value] = [*raw[a.value], b.value]
    message = refused_named("random", raw)
    assert "cycle" in message and a.value in message and b.value in message


def refused_named(name: str, graph: dict[str, list[str]]) -> str:
    with pytest.raises(DefinitionError) as caught:
        build_definition(name, "export", graph)
    return str(caught.value)


# --- Per-gate overrides -----------------------------------------------------------------------

GATES_FILE = """
[[gate]]
code = "COC_NAM"
prefix = "CN"
name_vi = "Cửa khẩu Cốc Nam"
name_en = "Coc Nam Border Gate"

[gate.workflow.export]
yard = []
customs = ["yard"]
plant_quarantine = ["customs"]
border_guard = ["customs", "plant_quarantine"]
"""


def test_a_gate_may_override_one_direction(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text(GATES_FILE, encoding="utf-8")
    gates = load_gates(path)
    export = gates.definition("COC_NAM", Direction.EXPORT)
    assert export.name == "COC_NAM-export"
    assert export.stages == (
        Stage.YARD,
        Stage.CUSTOMS,
        Stage.PLANT_QUARANTINE,
        Stage.BORDER_GUARD,
    )
    assert export.depends_on[Stage.BORDER_GUARD] == (Stage.CUSTOMS, Stage.PLANT_QUARANTINE)
    # The other direction keeps the default graph.
    default_import = default_definitions()[Direction.IMPORT]
    assert gates.definition("COC_NAM", Direction.IMPORT).depends_on == default_import.depends_on


def test_a_bad_gate_override_fails_at_start_up_naming_the_gate(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text(GATES_FILE.replace('customs = ["yard"]', 'customs = ["border_guard"]'))
    with pytest.raises(GateConfigError) as caught:
        load_gates(path)
    message = str(caught.value)
    assert "gate COC_NAM" in message and "cycle" in message
