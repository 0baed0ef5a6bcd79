"""Consistency checks. Each returns findings; none raises for a problem it finds."""

from stackgen.check.codes import CODES
from stackgen.check.external import check_dashboard_file, check_rule_file
from stackgen.check.static import build_index, check_stack

__all__ = ["CODES", "build_index", "check_dashboard_file", "check_rule_file", "check_stack"]
