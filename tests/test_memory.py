"""The memory estimate refuses what cannot fit and passes what can."""

from __future__ import annotations

import pytest

from socialcredit.memory import FIXED_BYTES, HOST_BYTES_PER_AGENT, MemoryTooSmall, check_fits


def test_estimate_and_refusal():
    need = check_fits(1000, available=10**12)
    assert need == int(FIXED_BYTES + HOST_BYTES_PER_AGENT * 1000)
    with pytest.raises(MemoryTooSmall, match=r"needs about .* GiB .* has 1\.0 GiB available"):
        check_fits(10_000_000, available=2**30)


def test_the_suggested_size_fits():
    have = 4 * 2**30
    with pytest.raises(MemoryTooSmall) as e:
        check_fits(100_000_000, available=have)
    suggested = int(str(e.value).split("--agents ")[1].split(" ")[0].replace(",", ""))
    assert check_fits(suggested, available=have) <= have
