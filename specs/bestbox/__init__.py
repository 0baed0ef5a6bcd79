"""The BestBox agent API's monitoring stack."""

from specs.bestbox.stack import stack

__all__ = ["stack"]
