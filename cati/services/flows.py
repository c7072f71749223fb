"""Flow files: find, read and validate the questionnaires in the flows folder."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from cati.domain.flow import Flow, FlowError, load_flow

FLOW_SUFFIXES = (".yaml", ".yml", ".json")


def read_flow_file(path: Path) -> Flow:
    """Parse and validate one flow file; every problem is a `FlowError` naming the file."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(source, "/", f"cannot read the file ({exc})") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FlowError(
            source, "/", f"not valid {path.suffix.lstrip('.').upper()}: {exc}"
        ) from None
    flow = load_flow(document, source)
    if flow.id != path.stem:
        raise FlowError(source, "/id", f"must match the file name ({path.stem!r}), not {flow.id!r}")
    return flow


def flow_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in FLOW_SUFFIXES)


def find_flow(name: str, folder: Path) -> Flow:
    """The flow called `name` in `folder`, validated; FlowError if none or invalid."""
    for path in flow_files(folder) if folder.is_dir() else []:
        if path.stem == name:
            return read_flow_file(path)
    raise FlowError(str(folder), "/", f"no flow named {name!r}")


@lru_cache(maxsize=8)
def load_flows(folder: Path) -> dict[str, Flow]:
    """Every flow of the folder by id, validated once per process (a bad one fails loudly)."""
    return {flow.id: flow for flow in map(read_flow_file, flow_files(folder))}
