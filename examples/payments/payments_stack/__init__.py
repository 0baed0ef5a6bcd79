"""The payments monitoring stack."""

from payments_stack.stack import stack

__all__ = ["stack"]
