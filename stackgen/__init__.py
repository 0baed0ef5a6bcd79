"""stackgen: a monitoring stack as code.

Declarative specs (``stackgen.spec``) are rendered into every configuration file of the
stack (``stackgen.render``) and checked for consistency (``stackgen.check``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
