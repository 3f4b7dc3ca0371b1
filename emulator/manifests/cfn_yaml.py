"""CloudFormation YAML: a SafeLoader that reads the short-form tags (`!Ref`, `!Sub`, ...) as
their long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`), and `parse_template`, which turns YAML
errors into one-line `ManifestError`s. The SAM readers (functions, front door) share it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.errors import ManifestError
from emulator.manifests.validate import show

if TYPE_CHECKING:
    import yaml

# CloudFormation short-form tags; `!X v` is read as its long form `{"Fn::X": v}`.
_INTRINSIC_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Equals",
    "Select",
    "FindInMap",
    "ImportValue",
    "Split",
    "Base64",
    "Not",
    "And",
    "Or",
    "GetAZs",
    "Cidr",
)


@cache
def _cfn_loader() -> type[yaml.SafeLoader]:
    """A SafeLoader that reads CloudFormation's short-form tags as their long form."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, object]:
        if suffix not in _INTRINSIC_TAGS:
            raise yaml.constructor.ConstructorError(
                None, None, f"unknown tag '!{suffix}'", node.start_mark
            )
        key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        argument: object
        if isinstance(node, yaml.ScalarNode):
            argument = loader.construct_scalar(node)
            if suffix == "GetAtt":  # `!GetAtt A.B` is `Fn::GetAtt: [A, B]`
                argument = str(argument).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            argument = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            argument = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has no other node kinds
            argument = None
        return {key: argument}

    CfnLoader.add_multi_constructor("!", intrinsic)
    return CfnLoader


def parse_template(path: Path, text: str) -> dict[object, object]:
    """The template as a mapping, intrinsics in their long form; YAML errors in one line."""
    import yaml

    try:
        doc = yaml.load(text, Loader=_cfn_loader())  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ManifestError(path, f"invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(path, "invalid YAML: " + " ".join(str(exc).split())) from None
    if not isinstance(doc, dict):
        raise ManifestError(path, f"must be a mapping with Resources, got {show(doc)}")
    return doc
