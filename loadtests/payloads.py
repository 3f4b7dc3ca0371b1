"""What each invocation sends: a fixed payload, a file's bytes, or weighted choices.

    Payloads.fixed('{"name": "x"}')
    Payloads.from_file(Path("event.json"))           the file's bytes, unchanged
    Payloads.weighted(Path("mix.json"))              a JSON list of choices:
        [{"weight": 3, "payload": {"path": "/"}},
         {"weight": 1, "file": "big-event.json"}]     (`file` relative to mix.json)

`Payloads.parse(spec)` reads the harness's one option: `{...}`/`[...]`/`"..."` is JSON sent as
is, `@path` a file, `weighted:path` a weighted mix.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path


class PayloadError(ValueError):
    """A payload option that cannot be used. `str()` is the one-line message."""


@dataclass(frozen=True)
class Payloads:
    choices: tuple[bytes, ...]
    weights: tuple[float, ...]

    @classmethod
    def fixed(cls, payload: str | bytes) -> Payloads:
        body = payload.encode() if isinstance(payload, str) else payload
        return cls((body,), (1.0,))

    @classmethod
    def from_file(cls, path: Path) -> Payloads:
        try:
            return cls.fixed(path.read_bytes())
        except OSError as exc:
            raise PayloadError(f"{path}: cannot read: {exc.strerror}") from None

    @classmethod
    def weighted(cls, path: Path) -> Payloads:
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PayloadError(f"{path}: cannot read: {exc.strerror}") from None
        except ValueError as exc:
            raise PayloadError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(entries, list) or not entries:
            raise PayloadError(f"{path}: expected a non-empty list of {{weight, payload|file}}")
        choices: list[bytes] = []
        weights: list[float] = []
        for index, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or ("payload" in entry) == ("file" in entry):
                raise PayloadError(f"{path}: choice {index} needs either 'payload' or 'file'")
            weight = entry.get("weight", 1)
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
                raise PayloadError(f"{path}: choice {index}: weight must be > 0, got {weight!r}")
            if "file" in entry:
                choices.append(cls.from_file(path.parent / str(entry["file"])).choices[0])
            else:
                choices.append(json.dumps(entry["payload"]).encode())
            weights.append(float(weight))
        return cls(tuple(choices), tuple(weights))

    @classmethod
    def parse(cls, spec: str) -> Payloads:
        if spec.startswith("@"):
            return cls.from_file(Path(spec[1:]))
        if spec.startswith("weighted:"):
            return cls.weighted(Path(spec[len("weighted:") :]))
        try:
            json.loads(spec)
        except ValueError:
            raise PayloadError(
                f"payload {spec!r}: expected JSON, @FILE or weighted:FILE.json"
            ) from None
        return cls.fixed(spec)

    def pick(self, rng: random.Random) -> bytes:
        if len(self.choices) == 1:
            return self.choices[0]
        return rng.choices(self.choices, self.weights)[0]
