"""CloudFormation's intrinsic functions, as `sam local` resolves them before it runs anything.

    Stack(template, overrides, region, account)
      .parameters   Parameters: --parameter-overrides, else Default (Number → int/float,
                    CommaDelimitedList and List<…> → list), AllowedValues checked
      .condition(n) Conditions: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition
      .evaluate(v)  Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Join, Fn::Select, Fn::Split,
                    Fn::FindInMap, Fn::Base64; AWS::NoValue drops the key or item

Pseudo parameters take SAM CLI's local values (samcli/lib/intrinsic_resolver/
intrinsics_symbol_table.py `DEFAULT_PSEUDO_PARAM_VALUES`): StackName `local`, URLSuffix
`localhost`, Partition `aws`; Region and AccountId are the emulator's. A `Ref` to a resource
is its logical id and `Fn::GetAtt Function.Arn` its function ARN, as SAM CLI's symbol table
resolves them. What cannot be known locally (Fn::ImportValue, Fn::GetAZs, Fn::Cidr, another
resource's attribute) raises `Unresolved`, which the reader turns into its one-line error (or,
for an environment variable, leaves the variable unset, as before).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_REGION

NO_VALUE = "AWS::NoValue"
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
SAM_LOCAL_PSEUDO = {
    "AWS::StackName": "local",
    "AWS::URLSuffix": "localhost",
    "AWS::Partition": "aws",
}
# ⚠ SAM CLI's AWS::StackId for local runs, with our region and account
_STACK_ID = (
    "arn:aws:cloudformation:{region}:{account}:stack/local/51af3dc0-da77-11e4-872e-1234567db123"
)
_SUB = re.compile(r"\$\{([^}]*)\}")


class Unresolved(Exception):
    """An intrinsic that cannot be resolved locally; `str()` says which and why."""


class _NoValue:
    """`!Ref AWS::NoValue`: removes the property or list item that holds it."""


DROPPED = _NoValue()


@dataclass(frozen=True)
class StackSettings:
    """What a `sam local` run adds to a template: `--parameter-overrides`, region, account."""

    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID


def parse_parameter_overrides(text: str) -> dict[str, str]:
    """SAM CLI's `--parameter-overrides`: `Key=Value Key2=Value2` or
    `ParameterKey=K,ParameterValue=V ...`; values may be quoted (samcli/cli/types.py,
    CfnParameterOverridesType). Raises ValueError naming the part it cannot read."""
    value = r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|(?:\\.|[^ "\\])+)"""
    long_form = re.compile(rf"ParameterKey=([A-Za-z0-9\"']+),ParameterValue={value}")
    short_form = re.compile(rf"([A-Za-z0-9\"']+)={value}")
    out: dict[str, str] = {}
    rest = text.strip()
    while rest:
        match = long_form.match(rest) or short_form.match(rest)
        if match is None:
            raise ValueError(
                f"cannot read {rest.split()[0]!r}; expected Key=Value or "
                "ParameterKey=Key,ParameterValue=Value"
            )
        raw = match[2]
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = raw[1:-1]
        out[match[1].strip("\"'")] = raw
        rest = rest[match.end() :].lstrip()
    return out


class Stack:
    def __init__(self, doc: Mapping[object, object], settings: StackSettings) -> None:
        self.settings = settings
        self.resources = _mapping(doc.get("Resources"))
        self.mappings = _mapping(doc.get("Mappings"))
        self._conditions = _mapping(doc.get("Conditions"))
        self._condition_values: dict[str, bool] = {}
        self.declared = _mapping(doc.get("Parameters"))
        self.pseudo = {
            **SAM_LOCAL_PSEUDO,
            "AWS::Region": settings.region,
            "AWS::AccountId": settings.account_id,
            "AWS::StackId": _STACK_ID.format(region=settings.region, account=settings.account_id),
        }

    # --- parameters --------------------------------------------------------------------------
    def parameter(self, name: str) -> object:
        declared = self.declared.get(name)
        if not isinstance(declared, Mapping):
            raise Unresolved(f"!Ref {name}: no such parameter or resource")
        if name in self.settings.parameter_overrides:
            value: object = self.settings.parameter_overrides[name]
        elif "Default" in declared:
            value = declared["Default"]
        else:
            raise Unresolved(
                f"!Ref {name}: the parameter has no Default; give it with --parameter-overrides"
            )
        allowed = declared.get("AllowedValues")
        if isinstance(allowed, list) and str(value) not in [str(a) for a in allowed]:
            choices = ", ".join(repr(str(a)) for a in allowed)
            raise Unresolved(f"parameter {name} must be one of {choices}, got {str(value)!r}")
        kind = str(declared.get("Type", "String"))
        if kind == "Number" and isinstance(value, str):
            for number in (int, float):
                try:
                    return number(value)
                except ValueError:
                    pass
        if (kind == "CommaDelimitedList" or kind.startswith("List<")) and isinstance(value, str):
            return [item.strip() for item in value.split(",")]
        return value

    # --- conditions --------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self._conditions:
            raise Unresolved(f"Condition {name}: no such condition in Conditions")
        self._condition_values[name] = False  # a cycle reads False instead of recursing forever
        value = self._truth(self._conditions[name], f"Conditions.{name}")
        self._condition_values[name] = value
        return value

    def _truth(self, value: object, where: str) -> bool:
        if isinstance(value, Mapping) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if key == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
                left, right = (self.evaluate(item) for item in argument)
                return _text(left) == _text(right)
            if key == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
                return not self._truth(argument[0], where)
            if key in ("Fn::And", "Fn::Or") and isinstance(argument, list):
                results = [self._truth(item, where) for item in argument]
                return all(results) if key == "Fn::And" else any(results)
        if isinstance(value, bool):
            return value
        raise Unresolved(f"{where}: expected a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or)")

    # --- values ------------------------------------------------------------------------------
    def evaluate(self, value: object) -> object:
        """`value` with every intrinsic resolved; DROPPED for AWS::NoValue."""
        if isinstance(value, list):
            items = [self.evaluate(item) for item in value]
            return [item for item in items if item is not DROPPED]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if isinstance(key, str) and key.startswith("Fn::"):
                return self._function(key, argument)
        out = {key: self.evaluate(item) for key, item in value.items()}
        return {key: item for key, item in out.items() if item is not DROPPED}

    def _ref(self, name: object) -> object:
        if not isinstance(name, str):
            raise Unresolved("!Ref: expected a name")
        if name == NO_VALUE:
            return DROPPED
        if name in self.pseudo:
            return self.pseudo[name]
        if name.startswith("AWS::"):
            raise Unresolved(f"!Ref {name}: this pseudo parameter has no local value")
        if name in self.declared:
            return self.parameter(name)
        if name in self.resources:
            resource = self.resources[name]
            kind = resource.get("Type") if isinstance(resource, Mapping) else None
            if kind in LAYER_TYPES:
                # SAM CLI keeps a layer's Ref as it is, for its layer handling
                # (intrinsics_symbol_table.py `get_default_type_resolver`)
                return {"Ref": name}
            return name  # SAM CLI: a resource's Ref is its logical id
        raise Unresolved(f"!Ref {name}: no such parameter or resource")

    def _get_att(self, argument: object) -> object:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolved("!GetAtt: expected Resource.Attribute")
        logical_id, attribute = (self.evaluate(part) for part in argument)
        resource = self.resources.get(str(logical_id))
        kind = resource.get("Type") if isinstance(resource, Mapping) else None
        if attribute == "Arn" and kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            assert isinstance(resource, Mapping)
            properties = _mapping(resource.get("Properties"))
            name = self.evaluate(properties.get("FunctionName", logical_id))
            return (
                f"arn:aws:lambda:{self.settings.region}:{self.settings.account_id}:function:{name}"
            )
        raise Unresolved(f"!GetAtt {logical_id}.{attribute}: not known before deployment")

    def _sub(self, argument: object) -> str:
        variables: Mapping[str, object] = {}
        if isinstance(argument, list) and len(argument) == 2:
            variables = _mapping(argument[1])
            argument = argument[0]
        if not isinstance(argument, str):
            raise Unresolved("!Sub: expected a string or [string, {variables}]")

        def one(match: re.Match[str]) -> str:
            name = match[1].strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # `${!Literal}` is written as `${Literal}`
            if name in variables:
                return _text(self.evaluate(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return _text(self._get_att(name.split(".", 1)))
            return _text(self._ref(name))

        return _SUB.sub(one, argument)

    def _function(self, key: str, argument: object) -> object:
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::GetAtt":
            return self._get_att(argument)
        if key == "Fn::If":
            if not (isinstance(argument, list) and len(argument) == 3):
                raise Unresolved("!If: expected [condition, value if true, value if false]")
            name, when_true, when_false = argument
            return self.evaluate(when_true if self.condition(str(name)) else when_false)
        if key == "Fn::Join":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise Unresolved("!Join: expected [delimiter, [values]]")
            delimiter, items = self.evaluate(argument[0]), self.evaluate(argument[1])
            if not isinstance(items, list):
                raise Unresolved("!Join: expected a list of values")
            return _text(delimiter).join(_text(item) for item in items)
        if key == "Fn::Select":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise Unresolved("!Select: expected [index, [values]]")
            index, items = self.evaluate(argument[0]), self.evaluate(argument[1])
            try:
                position = int(str(index))
                if not isinstance(items, list) or not 0 <= position < len(items):
                    raise IndexError
            except (ValueError, IndexError):
                raise Unresolved(f"!Select: index {index!r} is not in the list") from None
            return items[position]
        if key == "Fn::Split":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise Unresolved("!Split: expected [delimiter, string]")
            delimiter, text = (self.evaluate(item) for item in argument)
            return _text(text).split(_text(delimiter))
        if key == "Fn::FindInMap":
            if not (isinstance(argument, list) and len(argument) == 3):
                raise Unresolved("!FindInMap: expected [MapName, TopLevelKey, SecondLevelKey]")
            keys = [_text(self.evaluate(item)) for item in argument]
            try:
                table = self.mappings[keys[0]]
                assert isinstance(table, Mapping)
                second = table[keys[1]]
                assert isinstance(second, Mapping)
                return second[keys[2]]
            except (KeyError, AssertionError):
                raise Unresolved(f"!FindInMap: Mappings has no {'.'.join(keys)}") from None
        if key == "Fn::Base64":
            return base64.b64encode(_text(self.evaluate(argument)).encode()).decode()
        raise Unresolved(f"!{key.removeprefix('Fn::')}: not resolved locally")


def _mapping(value: object) -> Mapping[str, object]:
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    return {}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise Unresolved(f"expected a string, got {type(value).__name__}")
