"""Prometheus rule files as promtool reads them, and every way they can be malformed.

A file is a YAML stream; each document is a rule file (``groups``), a Kubernetes
``PrometheusRule`` (its ``.spec``), a ``List`` of those, or a ``ConfigMap`` whose data
values are rule files. What promtool's strict decoding and ``rulefmt`` validation
refuse is reported as a finding at the file, group, rule and line, never raised: a
missing or non-string ``expr``, a rule that is not a mapping, a group without a name,
a ``for`` that is not a duration, unknown or repeated keys, both or neither of
``alert``/``record``, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stackgen.check.codes import FindingCode, finding
from stackgen.check.located_yaml import (
    DecodeProblem,
    decode,
    item_line,
    line_of,
    load_documents,
)
from stackgen.findings import Finding

__all__ = ["ForeignRule", "RuleFileContents", "read_rule_file", "read_rule_text", "rule_paths"]

# Prometheus' duration syntax (model.ParseDuration): units in descending order, "0" alone.
_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
_FILE_KEYS = frozenset({"groups"})
_GROUP_KEYS = frozenset({"name", "interval", "query_offset", "limit", "rules", "labels"})
_RULE_KEYS = frozenset(
    {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
)
_ALERT_ONLY = ("for", "keep_firing_for", "annotations")
_KUBERNETES_RULES = "PrometheusRule"
_SLO_SPEC_VERSIONS = {
    "sloth/v1": "Sloth",
    "sloth.slok.dev/v1": "Sloth (Kubernetes)",
    "openslo/v1alpha": "OpenSLO",
    "openslo/v1": "OpenSLO",
}


@dataclass(frozen=True)
class ForeignRule:
    """One well-formed rule of an external file, with the line it starts on."""

    path: str
    group: str
    kind: str  # alert | record
    name: str
    expr: str
    line: int
    for_: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        kind = "alert" if self.kind == "alert" else "recording rule"
        return f"{self.path}: group {self.group}, {kind} {self.name}"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class RuleFileContents:
    """What a rule file holds: its well-formed rules and the problems of the others."""

    rules: list[ForeignRule] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class _Reader:
    path: str
    contents: RuleFileContents = field(default_factory=RuleFileContents)

    def problem(self, line: int, message: str, where: str = "", hint: str = "") -> None:
        self.contents.findings.append(
            finding(
                FindingCode.MALFORMED_RULE,
                where or self.path,
                message,
                hint or "promtool check rules refuses it: fix the file",
                spec=self.path,
                location=f"{self.path}:{line}" if line else self.path,
            )
        )

    def unreadable(self, reason: str, hint: str = "fix or remove the file", line: int = 0) -> None:
        self.contents.findings.append(
            finding(
                FindingCode.UNREADABLE_FILE,
                self.path,
                reason,
                hint,
                spec=self.path,
                location=f"{self.path}:{line}" if line else "",
            )
        )

    # -- documents -----------------------------------------------------------------

    def document(self, document: object, number: int) -> None:
        label = f"document {number}" if number else "the file"
        if not isinstance(document, dict):
            self.unreadable(
                f"{label} is a {_yaml_type(document)}, not a rule file (a mapping with `groups`)"
            )
            return
        for rule_file in self._rule_files(document, label):
            self.rule_file(rule_file)

    def _rule_files(self, document: Mapping[Any, Any], label: str) -> Iterator[Mapping[Any, Any]]:
        kind = document.get("kind")
        version = str(document.get("apiVersion", ""))
        if "groups" in document:
            yield document
        elif kind == _KUBERNETES_RULES:
            spec = document.get("spec")
            if isinstance(spec, dict):
                yield spec
            else:
                self.problem(line_of(document), f"{label}: a PrometheusRule without a `spec`")
        elif isinstance(kind, str) and kind.endswith("List"):
            items = document.get("items")
            for number, item in enumerate(items if isinstance(items, list) else [], 1):
                if isinstance(item, dict):
                    yield from self._rule_files(item, f"{label}, item {number}")
        elif kind == "ConfigMap":
            yield from self._config_map(document, label)
        elif version.split("/")[0] in ("sloth", "sloth.slok.dev", "openslo") or (
            version in _SLO_SPEC_VERSIONS
        ):
            name = _SLO_SPEC_VERSIONS.get(version, "an SLO")
            self.unreadable(
                f"{label} is a {name} SLO spec ({version}), not a rule file",
                f"import it: stackgen import {'openslo' if 'openslo' in version else 'sloth'} "
                f"{self.path}",
            )
        elif "rule_files" in document or "tests" in document:
            self.unreadable(
                f"{label} is a promtool test file (rule_files, tests), not a rule file",
                f"run it with: promtool test rules {self.path}",
            )
        else:
            keys = ", ".join(sorted(map(str, document))) or "none"
            self.unreadable(
                f"{label} is not a Prometheus rule file: no top-level `groups` (keys: {keys})",
                line=line_of(document),
            )

    def _config_map(self, document: Mapping[Any, Any], label: str) -> Iterator[Mapping[Any, Any]]:
        data = document.get("data")
        for key, value in (data if isinstance(data, dict) else {}).items():
            if not isinstance(value, str):
                continue
            try:
                inner = load_documents(value)
            except yaml.YAMLError as error:
                self.problem(line_of(data), f"{label}: data {key!r} does not parse: {error}")
                continue
            for item in inner:
                if isinstance(item, dict) and "groups" in item:
                    yield item

    # -- groups and rules ----------------------------------------------------------

    def rule_file(self, document: Mapping[Any, Any]) -> None:
        line = line_of(document)
        self._keys(document, _FILE_KEYS | {"apiVersion", "kind", "metadata"}, "the rule file", line)
        groups = document.get("groups")
        if groups is None:
            return
        if not isinstance(groups, list):
            self.problem(line, f"`groups` is a {_yaml_type(groups)}, not a list")
            return
        seen: set[str] = set()
        for number, group in enumerate(groups, 1):
            self.group(group, number, item_line(groups, number - 1, line), seen)

    def group(self, group: object, number: int, parent_line: int, seen: set[str]) -> None:
        if not isinstance(group, dict):
            self.problem(
                parent_line,
                f"group {number} is a {_yaml_type(group)}, not a mapping",
                f"{self.path}: group #{number}",
            )
            return
        line = line_of(group, parent_line)
        name = group.get("name")
        if not isinstance(name, str) or not name:
            self.problem(
                line,
                f"group {number} has no name (`name` must be a non-empty string)",
                f"{self.path}: group #{number}",
            )
            name = f"#{number}"
        elif name in seen:
            self.problem(
                line, f"group name {name!r} is repeated in the file", f"{self.path}: group {name}"
            )
        seen.add(name)
        where = f"{self.path}: group {name}"
        self._keys(group, _GROUP_KEYS, f"group {name}", line, where)
        for key in ("interval", "query_offset"):
            if key in group:
                self._duration(group[key], key, line, where)
        if "limit" in group and not isinstance(group["limit"], int):
            self.problem(line, f"`limit` is {group['limit']!r}, not an integer", where)
        self._string_map(group, "labels", line, where)
        rules = group.get("rules")
        if rules is None:
            return
        if not isinstance(rules, list):
            self.problem(line, f"`rules` is a {_yaml_type(rules)}, not a list", where)
            return
        for index, rule in enumerate(rules, 1):
            self.rule(rule, name, index, item_line(rules, index - 1, line))

    def rule(self, rule: object, group: str, number: int, line: int) -> None:
        where = f"{self.path}: group {group}, rule {number}"
        if not isinstance(rule, dict):
            self.problem(
                line, f"rule {number} is a {_yaml_type(rule)} ({rule!r}), not a mapping", where
            )
            return
        line = line_of(rule, line)
        alert, record = rule.get("alert"), rule.get("record")
        kind = "alert" if alert is not None else "record"
        name = alert if alert is not None else record
        if isinstance(name, str) and name:
            title = "alert" if kind == "alert" else "recording rule"
            where = f"{self.path}: group {group}, {title} {name}"
        ok = True
        if alert is not None and record is not None:
            self.problem(
                line, "both `alert` and `record` are set: a rule is one or the other", where
            )
            ok = False
        elif alert is None and record is None:
            self.problem(line, "neither `alert` nor `record` is set", where)
            ok = False
        elif not isinstance(name, str) or not name:
            self.problem(line, f"`{kind}` is {name!r}, not a non-empty string", where)
            ok = False
        ok = self._keys(rule, _RULE_KEYS, "the rule", line, where) and ok
        expr = rule.get("expr")
        if expr is None or (isinstance(expr, str) and not expr.strip()):
            self.problem(line, "the rule has no `expr`", where)
            ok = False
        elif isinstance(expr, bool) or not isinstance(expr, str | int | float):
            self.problem(line, f"`expr` is a {_yaml_type(expr)}, not a PromQL string", where)
            ok = False
        if kind == "record":
            for key in _ALERT_ONLY:
                if key in rule:
                    self.problem(line, f"`{key}` is not allowed in a recording rule", where)
                    ok = False
        for key in ("for", "keep_firing_for"):
            if key in rule and not self._duration(rule[key], key, line, where):
                ok = False
        ok = self._string_map(rule, "labels", line, where) and ok
        ok = self._string_map(rule, "annotations", line, where) and ok
        if not ok:
            return
        labels = rule.get("labels") or {}
        self.contents.rules.append(
            ForeignRule(
                path=self.path,
                group=group,
                kind=kind,
                name=str(name),
                expr=str(expr),
                line=line,
                for_=str(rule["for"]) if rule.get("for") is not None else None,
                labels={str(k): str(v) for k, v in labels.items()},
            )
        )

    # -- fields --------------------------------------------------------------------

    def _keys(
        self,
        mapping: Mapping[Any, Any],
        allowed: frozenset[str],
        what: str,
        line: int,
        where: str = "",
    ) -> bool:
        ok = True
        for key in getattr(mapping, "duplicates", ()):
            self.problem(line, f"{what} repeats the key {key!r}", where)
            ok = False
        unknown = sorted(str(key) for key in mapping if key not in allowed)
        if unknown:
            self.problem(
                line,
                f"{what} has unknown field(s) {', '.join(map(repr, unknown))}",
                where,
                f"the fields are {', '.join(sorted(allowed))}",
            )
            ok = False
        return ok

    def _duration(self, value: object, key: str, line: int, where: str) -> bool:
        # Go's YAML hands any scalar to the duration parser as text (`for: 0` is valid).
        scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
        text = str(value) if scalar else None
        if text is not None and (text == "0" or (text and _DURATION.match(text))):
            return True
        self.problem(
            line,
            f"`{key}` is {value!r}, not a duration",
            where,
            "a Prometheus duration: 30s, 5m, 1h30m (units y w d h m s ms, largest first)",
        )
        return False

    def _string_map(self, mapping: Mapping[Any, Any], key: str, line: int, where: str) -> bool:
        value = mapping.get(key)
        if value is None:
            return True
        if not isinstance(value, dict):
            self.problem(line, f"`{key}` is a {_yaml_type(value)}, not a mapping", where)
            return False
        ok = True
        for name, item in value.items():
            if isinstance(item, dict | list):
                self.problem(line, f"`{key}.{name}` is a {_yaml_type(item)}, not a string", where)
                ok = False
        return ok


def _yaml_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def read_rule_text(text: str, path: str) -> RuleFileContents:
    """The rules of a rule file's text (every document of it) and its problems."""
    reader = _Reader(path)
    try:
        documents = load_documents(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        reader.unreadable(f"not valid YAML: {error}", "fix the YAML syntax", line)
        return reader.contents
    if not documents:
        reader.unreadable("the file is empty: no rule groups", "add `groups:` or remove the file")
    for number, document in enumerate(documents, 1):
        reader.document(document, number if len(documents) > 1 else 0)
    return reader.contents


def rule_paths(path: Path) -> list[Path]:
    """A rule file, or every ``*.yml``/``*.yaml`` under a directory (recursively, in path
    order; an empty directory is itself, so its finding says so)."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))
    return found or [path]


def read_rule_file(path: Path) -> RuleFileContents:
    """A rule file from disk; bytes that are not UTF-8 are a finding, not an exception."""
    try:
        data = path.read_bytes()
    except OSError as error:
        reader = _Reader(str(path))
        if path.is_dir():
            reader.unreadable("the directory holds no rule file (*.yml, *.yaml)")
        else:
            reader.unreadable(f"cannot read a rule file: {error.strerror or error}")
        return reader.contents
    text = decode(data)
    if isinstance(text, DecodeProblem):
        contents = RuleFileContents()
        contents.findings.append(not_utf8(str(path), text))
        return contents
    return read_rule_text(text, str(path))


def not_utf8(path: str, problem: DecodeProblem) -> Finding:
    return finding(
        FindingCode.NOT_UTF8,
        path,
        f"{problem.reason} (line {problem.line}, byte {problem.offset}): Prometheus and "
        "Grafana read UTF-8 only",
        "re-encode the file as UTF-8 (iconv -f LATIN1 -t UTF-8)",
        spec=path,
        location=f"{path}:{problem.line}",
    )
