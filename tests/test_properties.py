"""Property tests (hypothesis, issue 18): the scenario loader and ``--set`` overrides answer
any input with a Scenario or a ScenarioError (never another exception), presets mutated in and
just outside their fields' bounds included; the audit's intervals contain their estimate and
stay within their bounds. Each property runs about 50 examples, so the file takes seconds."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from socialcredit.audit.statistics import (  # noqa: E402
    binomial_ci,
    difference_ci,
    mean_ci,
    poisson_ci,
)
from socialcredit.scenario import ScenarioError  # noqa: E402
from socialcredit.scenario.loader import parse_scenario, preset_path  # noqa: E402
from socialcredit.scenario.model import Scenario  # noqa: E402

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples every run: a failure here is reproducible
)
PRESETS = ["rongcheng", "xinjiang-informants", "court-blacklist", "corporate"]


def loads_or_refuses(text: str, overrides: list[str] | None = None) -> Scenario | None:
    """The property: a Scenario, or a ScenarioError with located, non-empty messages."""
    try:
        return parse_scenario(text, "prop.yaml", overrides)
    except ScenarioError as e:
        assert e.issues and all(i.message for i in e.issues)
        assert str(e).strip()
        return None


@cache
def preset(name: str) -> tuple[str, Any]:
    text = preset_path(name).read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def leaves(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every (path, scalar) of a preset's data."""
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in leaves(v, (*path, k))]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in leaves(v, (*path, i))]
    return [(path, data)]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
FIELD_NAMES = ["metadata", "name", "population", "agents", "groups", "share", "days", "seed"]
FIELD_NAMES += ["programmes", "points", "tiers", "min", "max", "behaviours", "base_rate"]
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


def near(value: Any) -> st.SearchStrategy:
    """Values in and just outside a field's range: around the preset's own value."""
    if isinstance(value, bool):
        return st.one_of(st.booleans(), scalars)
    if isinstance(value, int | float):
        factors = st.sampled_from([-1, 0, 0.5, 0.999, 1.001, 2, 10, 1e6])
        shifts = st.sampled_from([-1, 1, -1e-9, 1e-9])
        return st.one_of(
            factors.map(lambda k: value * k),
            shifts.map(lambda d: value + d),
            st.sampled_from([0, -1, 1, 32767, 32768, -32769, 2**31, 1e39, -0.0]),
            scalars,
        )
    return scalars


@FAST
@given(st.dictionaries(keys, values, max_size=6))
def test_random_mappings_load_or_are_refused(data):
    loads_or_refuses(yaml.safe_dump(data, allow_unicode=True))


@FAST
@given(st.text(max_size=200))
def test_random_text_loads_or_is_refused(text):
    loads_or_refuses(text)


@FAST
@given(st.sampled_from(PRESETS), st.data())
def test_presets_mutated_in_and_just_outside_their_bounds_load_or_are_refused(name, data):
    text, parsed = preset(name)
    fields = leaves(parsed)
    for _ in range(data.draw(st.integers(1, 3))):
        path, value = data.draw(st.sampled_from(fields))
        new = data.draw(near(value))
        cur = parsed = yaml.safe_load(text) if _ == 0 else parsed
        for key in path[:-1]:
            cur = cur[key]
        cur[path[-1]] = new
    loads_or_refuses(yaml.safe_dump(parsed, allow_unicode=True, sort_keys=False))


path_parts = st.one_of(
    st.sampled_from(["population", "agents", "groups", "0", "1", "share", "programmes"]),
    st.sampled_from(["rongcheng", "points", "littering", "tiers", "name", "-1", "99", ""]),
    st.text(alphabet="ab.=0 -_[]'\"", max_size=6),
)


@FAST
@given(st.lists(path_parts, min_size=0, max_size=5), st.one_of(st.text(max_size=20), scalars))
def test_set_paths_apply_or_are_refused(parts, value):
    text, _ = preset("rongcheng")
    shown = value if isinstance(value, str) else yaml.safe_dump(value).strip().split("\n")[0]
    loads_or_refuses(text, [f"{'.'.join(parts)}={shown}"])


@FAST
@given(st.text(max_size=40))
def test_any_set_text_applies_or_is_refused(override):
    loads_or_refuses(preset("rongcheng")[0], [override])


# ----------------------------------------------------------------------------- audit statistics

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@FAST
@given(st.lists(finite, min_size=2, max_size=30))
def test_a_mean_interval_contains_the_mean(xs):
    m, lo, hi, n = mean_ci(xs)
    assert n == len(xs)
    slack = 1e-9 * max(1.0, abs(m))
    assert lo - slack <= m <= hi + slack


@FAST
@given(st.lists(st.one_of(finite, st.just(math.nan), st.just(math.inf)), max_size=10))
def test_a_mean_interval_skips_what_is_not_finite(xs):
    m, lo, hi, n = mean_ci(xs)
    assert n == sum(math.isfinite(x) for x in xs)
    if n >= 2:
        assert lo <= m <= hi or math.isclose(lo, hi)


counts = st.integers(min_value=0, max_value=10**6)
sizes = st.floats(min_value=1e-3, max_value=1e7)


@FAST
@given(counts, sizes)
def test_a_rate_interval_contains_the_rate_and_is_not_negative(k, exposure):
    lo, hi = poisson_ci(k, exposure)
    rate = k / exposure
    assert 0 <= lo <= rate * (1 + 1e-9) and rate <= hi * (1 + 1e-9)


@FAST
@given(st.integers(min_value=1, max_value=10**6), st.data())
def test_a_share_interval_contains_the_share_within_0_and_1(n, data):
    x = data.draw(st.integers(min_value=0, max_value=n))
    lo, hi = binomial_ci(x, n)
    assert 0.0 <= lo <= x / n * (1 + 1e-9) + 1e-12 and x / n <= hi * (1 + 1e-9) + 1e-12
    assert hi <= 1.0


@FAST
@given(st.sampled_from(["rate", "share"]), st.data())
def test_a_difference_interval_contains_the_difference(kind, data):
    den_a = data.draw(st.integers(min_value=1, max_value=10**5))
    den_b = data.draw(st.integers(min_value=1, max_value=10**5))
    num_a = data.draw(st.integers(min_value=0, max_value=den_a))
    num_b = data.draw(st.integers(min_value=0, max_value=den_b))
    lo, hi = difference_ci(kind, num_a, den_a, num_b, den_b)
    diff = num_a / den_a - num_b / den_b
    assert lo - 1e-9 <= diff <= hi + 1e-9
    if kind == "share":
        assert -1.0 <= lo and hi <= 1.0
