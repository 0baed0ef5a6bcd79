"""Work done once per run: each PromQL expression parsed once for every validator,
renderer and check; the rules model and each dashboard built once per stack; YAML
through libyaml, writing the same text as PyYAML's pure-Python emitter."""

from __future__ import annotations

import yaml

from stackgen.memo import per_stack
from stackgen.output import _Dumper, dump_yaml, regenerated_by
from stackgen.promql_trees import metric_names, parsed
from stackgen.render import dashboards
from stackgen.rules_model import build_rules
from stackgen.spec import Stack


def test_an_expression_is_parsed_once_and_its_tree_shared() -> None:
    expr = 'sum(rate(shared_total{job="a"}[5m])) / on (job) group_left b_ratio > 0.1'
    assert parsed(expr) is parsed(expr)
    assert metric_names(expr) == {"shared_total", "b_ratio"}
    assert metric_names('{__name__="by_matcher", job="a"}') == {"by_matcher"}
    assert metric_names("sum(rate(unclosed[5m])") == frozenset()  # the checks report it


def test_the_rules_model_is_built_once_per_stack(stack: Stack) -> None:
    assert build_rules(stack) is build_rules(stack)
    other = stack.model_copy(update={"name": "other"})
    assert build_rules(other) is not build_rules(stack)


def test_a_cached_rendering_is_not_reused_under_another_regenerate_command(stack: Stack) -> None:
    calls: list[str] = []

    @per_stack
    def render(stack: Stack) -> str:
        calls.append(stack.name)
        return dump_yaml({"a": 1})

    first = render(stack)
    assert render(stack) is first
    with regenerated_by("make other"):
        assert "make other" in render(stack)
    assert len(calls) == 2


def test_the_c_dumper_writes_what_the_python_dumper_writes(stack: Stack) -> None:
    class PythonDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    PythonDumper.add_representer(str, _Dumper.yaml_representers[str])
    assert _Dumper.__mro__[1] is not yaml.SafeDumper  # libyaml is what runs here
    model = build_rules(stack)
    documents = [f.document() for f in (*model.rule_files, *model.test_files)]
    documents.append({"text": "é — a line\nand another\n", "list": [1.5, "x: y", None]})
    for document in documents:
        options = {"sort_keys": False, "allow_unicode": True, "width": 100, "indent": 2}
        assert yaml.dump(document, Dumper=_Dumper, **options) == yaml.dump(
            document, Dumper=PythonDumper, **options
        )


def test_a_caller_changing_its_rendered_dashboards_changes_nobody_elses(stack: Stack) -> None:
    first = dashboards.render(stack)
    first.clear()
    assert dashboards.render(stack) != {}
