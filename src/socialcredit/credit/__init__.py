"""Old path of ``socialcredit.results.credit``, kept while ``memory.py`` imports
``credit_sample`` from here; import from ``socialcredit.results.credit``.

A package rather than a module, so that git sees ``credit.py`` renamed to
``results/credit.py`` and carries edits made to the old file across a merge; delete this
folder once nothing imports ``socialcredit.credit``.
"""

from socialcredit.results.credit import SAMPLE_MAX, credit_sample

__all__ = ["SAMPLE_MAX", "credit_sample"]
