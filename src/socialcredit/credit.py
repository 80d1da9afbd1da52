"""Old path of ``socialcredit.results.credit``, kept while ``memory.py`` imports
``credit_sample`` from here; import from ``socialcredit.results.credit``."""

from socialcredit.results.credit import SAMPLE_MAX, credit_sample

__all__ = ["SAMPLE_MAX", "credit_sample"]
