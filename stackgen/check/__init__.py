"""Consistency checks. Each returns findings; none raises for a problem it finds.

The checks of a stack are registered in ``stackgen.check.registry``; ``check_stack``
runs them all over one ``CheckContext``.
"""

from stackgen.check.codes import FindingCode
from stackgen.check.external import check_dashboard_file, check_rule_file
from stackgen.check.static import build_index, check_stack

__all__ = ["FindingCode", "build_index", "check_dashboard_file", "check_rule_file", "check_stack"]
