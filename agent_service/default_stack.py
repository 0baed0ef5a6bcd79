"""The stack the service runs when it is given none: BestBox, with the /admin tabs that
embed its dashboards. The one module of the service that names a spec; every other
module takes the stack (and the tabs) it is handed."""

from __future__ import annotations

from specs.bestbox import stack as DEFAULT_STACK
from specs.bestbox.admin import ADMIN_TABS as DEFAULT_ADMIN_TABS

__all__ = ["DEFAULT_ADMIN_TABS", "DEFAULT_STACK"]
