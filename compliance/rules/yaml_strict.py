"""A YAML loader that refuses what PyYAML's ``safe_load`` silently gets wrong.

``safe_load`` keeps the last of two duplicate keys, reads the country code ``NO`` as ``False``
and ``ON`` as ``True``, and turns ``2024-01-01`` into a date but ``2024-1-1`` into a string.
Ruleset files are law as data, so this loader raises on duplicate keys, reads only ``true`` and
``false`` as booleans, and leaves dates as text for the models to parse with one rule.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans, no implicit timestamps, unique keys."""


# Drop every implicit resolver for bool and timestamp, then add back the YAML 1.2 booleans.
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


class DuplicateKeyError(yaml.YAMLError):
    pass


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode,
                       deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            mark = key_node.start_mark
            raise DuplicateKeyError(
                f"duplicate key {key!r} at line {mark.line + 1}, column {mark.column + 1}")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_strict(text: str | bytes) -> Any:
    return yaml.load(text, Loader=StrictLoader)
