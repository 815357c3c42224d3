"""Mermaid flowcharts drawn from workflow definitions, so the diagrams cannot drift from them."""

from __future__ import annotations

from workflows.definitions import WorkflowDefinition
from workflows.labels import STAGE_LABELS

START_NODE = "submit"
END_NODE = "departed"
START_LABEL = "Nộp tờ khai / submit"
END_LABEL = "Xe ra bãi, qua cửa khẩu / gate_out / departed"


def _quoted(label: str) -> str:
    """A Mermaid node label in double quotes (a double quote inside is written #quot;)."""
    return '"' + label.replace('"', "#quot;") + '"'


def mermaid(definition: WorkflowDefinition) -> str:
    """The stage graph as a Mermaid `flowchart LR`: submit → entry stages … exit stages → departed.

    Nodes are the stages (ids are the stage values, labels Vietnamese / English); an edge
    a --> b means stage b waits for stage a. The output is deterministic: stages in
    topological order, each stage's predecessors in the order the definition lists them.
    """
    stages = definition.stages
    lines = ["flowchart LR", f"    {START_NODE}([{_quoted(START_LABEL)}])"]
    for stage in stages:
        vi, en = STAGE_LABELS[stage]
        lines.append(f"    {stage.value}[{_quoted(f'{vi} / {en}')}]")
    lines.append(f"    {END_NODE}([{_quoted(END_LABEL)}])")
    for stage in definition.entry_stages:
        lines.append(f"    {START_NODE} --> {stage.value}")
    for stage in stages:
        for predecessor in definition.depends_on[stage]:
            lines.append(f"    {predecessor.value} --> {stage.value}")
    for stage in definition.exit_stages:
        lines.append(f"    {stage.value} --> {END_NODE}")
    return "\n".join(lines) + "\n"
