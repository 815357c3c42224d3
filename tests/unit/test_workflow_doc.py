"""docs/workflow.md is what the generator makes of the stage graphs; the diagrams are right."""

from __future__ import annotations

from pathlib import Path

from border_gate.gates import load_gates
from border_gate.workflow_doc import (
    COMMAND,
    OUTPUT,
    REPO_ROOT,
    STATE_MEANINGS,
    STATUS_RULES,
    render_workflow_markdown,
)
from workflows.definitions import build_definition, default_definitions
from workflows.diagram import mermaid
from workflows.model import Direction, Stage, StageState, Status


def test_docs_workflow_md_is_up_to_date() -> None:
    path = REPO_ROOT / OUTPUT
    expected = render_workflow_markdown(load_gates())
    current = path.read_text(encoding="utf-8") if path.exists() else "(missing)"
    assert current == expected, (
        f"{OUTPUT} is stale: the stage graphs, labels or roles changed. "
        f"Regenerate it with `{COMMAND}` and commit the result."
    )


def test_the_export_diagram() -> None:
    text = mermaid(default_definitions()[Direction.EXPORT])
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    submit(["Nộp tờ khai / submit"])' in lines
    assert '    customs["Hải quan / Customs"]' in lines
    assert '    plant_quarantine["Kiểm dịch thực vật / Plant quarantine"]' in lines
    edges = {line.strip() for line in lines if "-->" in line}
    assert edges == {
        "submit --> yard",
        "yard --> customs",
        "yard --> plant_quarantine",
        "yard --> animal_quarantine",
        "yard --> health_quarantine",
        "customs --> border_guard",
        "plant_quarantine --> border_guard",
        "animal_quarantine --> border_guard",
        "health_quarantine --> border_guard",
        "border_guard --> departed",
    }
    assert text.count("departed([") == 1 and "gate_out / departed" in text


def test_the_import_diagram_starts_at_the_border_guard() -> None:
    text = mermaid(default_definitions()[Direction.IMPORT])
    edges = {line.strip() for line in text.splitlines() if "-->" in line}
    assert "submit --> border_guard" in edges
    assert "border_guard --> yard" in edges
    assert {
        f"{s.value} --> departed" for s in Stage if s not in (Stage.YARD, Stage.BORDER_GUARD)
    } <= edges


def test_a_diagram_has_one_node_per_stage_and_one_edge_per_dependency() -> None:
    definition = build_definition(
        "CHI_MA-export",
        "export",
        {"yard": [], "customs": ["yard"], "border_guard": ["customs"]},
    )
    text = mermaid(definition)
    assert text == mermaid(definition)  # deterministic
    edges = [line.strip() for line in text.splitlines() if "-->" in line]
    assert edges == [
        "submit --> yard",
        "yard --> customs",
        "customs --> border_guard",
        "border_guard --> departed",
    ]
    assert "plant_quarantine" not in text


def test_a_gate_with_its_own_workflow_gets_a_section(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text(
        "[[gate]]\n"
        'code = "HUU_NGHI"\nprefix = "HN"\nname_vi = "Cửa khẩu Hữu Nghị"\nname_en = "Huu Nghi"\n'
        "[[gate]]\n"
        'code = "COC_NAM"\nprefix = "CN"\nname_vi = "Cửa khẩu Cốc Nam"\nname_en = "Coc Nam"\n'
        "[gate.workflow.import]\n"
        'border_guard = []\nyard = ["border_guard"]\ncustoms = ["yard"]\n'
        'plant_quarantine = ["customs"]\n',
        encoding="utf-8",
    )
    text = render_workflow_markdown(load_gates(path))
    assert "### Cửa khẩu Cốc Nam / Coc Nam (`COC_NAM`)" in text
    assert "Huu Nghi (`HUU_NGHI`)" not in text  # it keeps the defaults
    section = text.split("(`COC_NAM`)", 1)[1].split("## Trạng thái giai đoạn", 1)[0]
    assert "Xuất khẩu / Export: the default." in section
    assert "#### Nhập khẩu / Import" in section
    assert "customs --> plant_quarantine" in section
    assert "plant_quarantine --> departed" in section


def test_the_bundled_gates_use_the_defaults() -> None:
    text = render_workflow_markdown(load_gates())
    assert "None: every gate (`HUU_NGHI`, `TAN_THANH`, `CHI_MA`, `COC_NAM`)" in text
    assert text.count("```mermaid") == 2


def test_the_tables_cover_every_state_status_and_stage() -> None:
    text = render_workflow_markdown(load_gates())
    assert set(STATE_MEANINGS) == set(StageState)
    assert [status for status, _ in STATUS_RULES].count(Status.CLEARED) == 1
    assert {status for status, _ in STATUS_RULES} == set(Status)
    assert len(STATUS_RULES) == len(Status)
    for stage in Stage:
        assert f"| `{stage.value}` |" in text
    assert "| `customs` | Hải quan | Customs | `customs_officer` | `customs` |" in text
    assert "| `yard` | Bãi kiểm soát | Yard | `yard_operator` | none (passed by gate-in) |" in text
