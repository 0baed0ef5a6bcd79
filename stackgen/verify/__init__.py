"""``stackgen verify``: the generated stack proven live (see run.py)."""

from stackgen.verify.run import VerifyOptions, VerifyReport, run_verify

__all__ = ["VerifyOptions", "VerifyReport", "run_verify"]
