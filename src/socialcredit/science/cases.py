"""The validation cases: each runs the engine's cooperation stage (engine/cooperation.py) or a
JAX model of the classic case and compares it with a published or closed-form value.

A case returns rows (quantity, published, ours, tolerance, source). Stochastic rows carry a
tolerance from the standard error (4 SE, the sample stated in the row's note); where the
published value is an infinite-population formula, the allowance for a population of N adds
a stated O(1/N) term. ``size`` scales the work: 1 is what ``socialcredit science`` runs,
smaller is what the default test suite runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.engine import cooperation as co
from socialcredit.science import theory

Z = 4.0  # standard errors of tolerance
THIRDS = (1 / 3, 1 / 3, 1 / 3)
SECOND_ORDER = ("stern_judging", "simple_standing", "scoring", "shunning")
RSP2019 = (
    "Radzvilavicius, Stewart & Plotkin (2019), Evolution of empathetic moral evaluation, "
    "eLife 8:e44269, reputation equations (Methods)"
)
RKP2021 = (
    "Radzvilavicius, Kessinger & Plotkin (2021), Adherence to public institutions that "
    "foster cooperation, Nat. Commun. 12:3567"
)
GHM = (
    "Glynatsi, Hilbe & Murase (2025), Exact conditions for evolutionary stability in indirect "
    "reciprocity under noise, arXiv:2509.08006; Ohtsuki & Iwasa (2004) J. Theor. Biol. 231:107"
)


@dataclass
class Row:
    case: str
    quantity: str
    published: float
    ours: float
    tolerance: float
    source: str
    note: str = ""

    @property
    def passed(self) -> bool:
        if np.isinf(self.published):
            return bool(np.isinf(self.ours))
        return bool(abs(self.ours - self.published) <= self.tolerance)

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _batch_se(x: np.ndarray, batches: int = 20) -> np.ndarray:
    """Standard error of a time average by batch means (columns: series)."""
    n = (len(x) // batches) * batches
    b = x[-n:].reshape(batches, -1, *x.shape[1:]).mean(1)
    return b.std(0, ddof=1) / np.sqrt(batches)


def _series(spec, params, steps, burn, shares=THIRDS, seed=1) -> np.ndarray:
    st = co.initial(spec, jax.random.key(seed), shares)
    _, m = co.run_jit(spec, params, jax.random.key(seed + 1), st, steps)
    return np.asarray(m)[burn:]


# ----------------------------------------------------------------------------- cooperation


def public_second_order(size: float = 1.0) -> list[Row]:
    """All discriminators, public monitoring (one observer, q = 1/2), e1 = e2 = 0.02."""
    n, steps = max(int(20_000 * size), 500), max(int(500 * size), 150)
    rows = []
    for norm in SECOND_ORDER if size >= 1 else ("stern_judging", "scoring"):
        spec = co.CoopSpec(agents=n, mode="public")
        m = _series(spec, co.make_params(norm), steps, 50, shares=(0, 0, 1))
        g, se = m[:, 7].mean(), _batch_se(m[:, 7])
        rows.append(
            Row(
                "public",
                f"{norm}: good standing of DISC",
                round(theory.public_standing(norm, 0.02, 0.02), 6),
                float(g),
                Z * float(se),
                "closed form h = (1-e2)/(1 + ... ) of the public reputation equation; the "
                "issue's 0.961538 / 0.337838",
                f"N={n}, {steps - 50} steps after 50; 4 SE (batch means)",
            )
        )
    return rows


def _private_rows(norm, empathy, n, steps, burn, case, mode="private", bureaus=1):
    spec = co.CoopSpec(agents=n, mode=mode, bureaus=bureaus)
    m = _series(spec, co.make_params(norm, empathy=empathy), steps, burn)
    nb = bureaus if mode == "bureaus" else 0
    gx, g, _ = theory.private_reputations(norm, THIRDS, 0.02, 0.02, empathy, bureaus=nb)
    approx = theory.private_reputations(norm, THIRDS, 0.02, 0.02, empathy)[0]
    pay = theory.payoffs(THIRDS, gx, g, 5.0, 1.0, 0.02)
    se = _batch_se(m)
    rows = []
    label = f"E={empathy:g}" if mode == "private" else f"M={bureaus} bureaus"
    source = RSP2019 if mode == "private" else RSP2019 + ", extended to M bureaus (ours)"
    for k, s in enumerate(co.STRATEGIES):
        col = 3 * k + 1
        rows.append(
            Row(
                case,
                f"{norm}, {label}: good share of {s}",
                float(gx[k]),
                float(m[:, col].mean()),
                Z * float(se[col]) + 1.0 / n,
                source,
                f"N={n}, thirds, {steps - burn} steps; 4 SE + 1/N (finite population)"
                + ("" if mode == "private" else f"; E=1/M would say {approx[k]:.4f}"),
            )
        )
    for k, s in enumerate(co.STRATEGIES):
        col = 3 * k + 2
        rows.append(
            Row(
                case,
                f"{norm}, {label}: payoff of {s} (b=5, c=1)",
                float(pay[k]),
                float(m[:, col].mean()),
                Z * float(se[col]) + 5.0 / n,
                source,
                f"N={n}, one partner a step; 4 SE + b/N (finite population)",
            )
        )
    return rows


def rsp2019_thirds(size: float = 1.0) -> list[Row]:
    """A third each of ALLC, ALLD, DISC under each norm, private assessment with E = 0 and
    E = 1: the reputations and payoffs of the reputation equations."""
    n, steps = max(int(200 * size), 60), max(int(600 * size), 200)
    rows = []
    norms = SECOND_ORDER if size >= 1 else ("stern_judging",)
    for norm in norms:
        for e in (0.0, 1.0):
            rows += _private_rows(norm, e, n, steps, 100, "rsp2019")
    return rows


def bureaus(size: float = 1.0) -> list[Row]:
    """M equal bureaus, each agent following one: donor and observer share a bureau with
    probability 1/M (then one view, as with empathy) and otherwise hold different views. The
    issue's E = 1/M is close but not exact (a discriminator's own bureau judges it as with
    E = 1, the others as with E = 0, so two bureaus' views of it are correlated through its
    bureau); the rows compare with the exact bureau equations, and the notes give E = 1/M."""
    n, steps = max(int(6_000 * size), 600), max(int(600 * size), 200)
    rows = []
    for m in (2, 4) if size >= 1 else (2,):
        for norm in ("stern_judging", "simple_standing") if size >= 1 else ("stern_judging",):
            rows += _private_rows(norm, 1 / m, n, steps, 100, "bureaus", "bureaus", m)
    return rows


def institution(size: float = 1.0) -> list[Row]:
    """Everyone acts on an institution's broadcast (Q observers, strictness q), thirds: the
    closed form g_X = P(Binomial(Q, p_X(G)) > qQ) of the public institution."""
    n, steps = max(int(20_000 * size), 1_000), max(int(400 * size), 150)
    rows = []
    for norm, q_obs, q in (("stern_judging", 5, 0.5), ("scoring", 5, 0.5), ("shunning", 3, 0.3)):
        spec = co.CoopSpec(agents=n, mode="public", observers=q_obs)
        m = _series(spec, co.make_params(norm, strictness=q), steps, 50)
        gx, _ = theory.institution_reputations(norm, THIRDS, 0.02, 0.02, q_obs, q)
        se = _batch_se(m)
        for k, s in enumerate(co.STRATEGIES):
            col = 3 * k + 1
            rows.append(
                Row(
                    "institution",
                    f"{norm}, Q={q_obs}, q={q}: broadcast good share of {s}",
                    float(gx[k]),
                    float(m[:, col].mean()),
                    Z * float(se[col]) + 1.0 / n,
                    RKP2021 + ", institution equations",
                    f"N={n}, thirds, {steps - 50} steps; 4 SE + 1/N",
                )
            )
    return rows


def _authors() -> dict:
    text = resources.files("socialcredit.science").joinpath("data/rkp2021.json").read_text()
    return json.loads(text)


_RKP_NORM = {
    "stern judging": "stern_judging",
    "simple standing": "simple_standing",
    "scoring": "scoring",
    "shunning": "shunning",
}


def rkp2021_snapshot(size: float = 1.0) -> list[Row]:
    """The authors' snapshot (output/fixation_paper_multitype_final.csv): 16 ALLC, 17 ALLD,
    17 DISC (N = 50), views random at first, 100 rounds of all-pairs play and reputation
    updates; private views with empathy E, beside an institution of Q members whose first
    broadcast is their first private views (as the authors' code starts it). Compared: the
    share of good private views (the file's `reputations`, pooled over its Q, q and board
    settings, which do not touch private views) and the institution's good share
    (`inst_reputations`, Q = 50 and q = 0.5, an independent board)."""
    data = _authors()
    f = data["files"]["output/fixation_paper_multitype_final.csv"]
    runs = max(int(100 * size), 40)
    rows = []
    norms = list(_RKP_NORM) if size >= 1 else ["stern judging", "scoring"]
    for e in (0.0, 0.9):
        for name in norms:
            groups = [g for g in f["groups"] if g["E"] == e and g["norm"] == name]
            # pooled mean and SE of the file's private reputations
            means = np.array([g["reputations"][0] for g in groups])
            k = sum(g["rows"] for g in groups)
            sems = np.array([g["reputations"][1] for g in groups])
            pub = float(means.mean())
            pub_se = float(np.sqrt((sems**2).sum()) / len(groups))
            inst = next(
                g for g in groups if g["Q"] == 50 and g["q"] == 0.5 and g["independent_board"]
            )
            ours = _snapshot(_RKP_NORM[name], e, runs)
            for what, published, se_pub, col in (
                ("good share of private views", pub, pub_se, 10),
                ("institution's good share (Q=50, q=0.5)", *inst["inst_reputations"], 11),
            ):
                mean, se = float(ours[:, col].mean()), float(ours[:, col].std(ddof=1))
                se /= np.sqrt(runs)
                rows.append(
                    Row(
                        "rkp2021-snapshot",
                        f"{name}, E={e:g}: {what}",
                        published,
                        mean,
                        Z * float(np.hypot(se, se_pub)),
                        RKP2021 + "; authors' file tkessinger/institutions "
                        "output/fixation_paper_multitype_final.csv",
                        f"theirs: {k} rows x 100 runs; ours: {runs} runs; 4 SE of the difference",
                    )
                )
    return rows


def _snapshot(norm: str, empathy: float, runs: int) -> np.ndarray:
    spec = co.CoopSpec(agents=50, mode="private", all_pairs=True, observers=50, board=True)
    params = co.make_params(norm, empathy=empathy, strictness=0.5)
    shares = (16 / 50, 17 / 50, 17 / 50)
    return np.asarray(_snapshot_runs(spec, params, jax.random.key(7), runs, shares))


@partial(jax.jit, static_argnums=(0, 3, 4))
def _snapshot_runs(spec, params, key, runs, shares):
    def one(k):
        k1, k2 = jax.random.split(k)
        st = co.initial(spec, k1, shares, random_views=True)
        # as the authors' code: the first broadcast is the members' (0 .. Q-1) first views
        count = st.view[: spec.observers].astype(jnp.int32).sum(0)
        st = replace(st, board=(count > params.strictness * spec.observers).astype(jnp.uint8))
        st, _ = co.run(spec, params, k2, st, 100)
        return co.measures(spec, st)

    return jax.vmap(one)(jax.random.split(key, runs))


def rkp2021_evolution(size: float = 1.0) -> list[Row]:
    """The authors' evolutionary output (output/paper_empathy_noRDisc.csv): N = 50, strategies
    drawn at random, b = 5, c = 1, w = 1, u_s = 0.025, e1 = e2 = 0.02, 10,000 generations of
    mutation, all-pairs play, private reputation updates with empathy E and one pairwise
    comparison; averages over the second half. Compared: mean cooperation and strategy
    shares."""
    data = _authors()["files"]["output/paper_empathy_noRDisc.csv"]
    runs = max(int(32 * size), 16)
    gens = 10_000 if size >= 1 else 4_000
    rows = []
    cases = [("stern judging", 0.0), ("stern judging", 1.0)]
    if size >= 1:
        cases += [("scoring", 0.0), ("simple standing", 1.0)]
    for name, e in cases:
        g = next(x for x in data["groups"] if x["E"] == e and x["norm"] == name)
        m = _evolve(_RKP_NORM[name], e, runs, gens)
        for what, col, key in (
            ("cooperation", 9, "coop_freqs"),
            ("ALLC share", 0, "f0"),
            ("ALLD share", 3, "f1"),
            ("DISC share", 6, "f2"),
        ):
            mean = float(m[:, col].mean())
            se = float(m[:, col].std(ddof=1) / np.sqrt(runs))
            pub, pub_se = g[key]
            rows.append(
                Row(
                    "rkp2021-evolution",
                    f"{name}, E={e:g}: {what}",
                    pub,
                    mean,
                    Z * float(np.hypot(se, pub_se)),
                    RKP2021 + "; authors' file tkessinger/institutions "
                    "output/paper_empathy_noRDisc.csv",
                    f"theirs: {g['runs']} runs x 10,000 generations; ours: {runs} runs x "
                    f"{gens:,}; 4 SE of the difference",
                )
            )
    return rows


def _evolve(norm: str, empathy: float, runs: int, gens: int) -> np.ndarray:
    spec = co.CoopSpec(agents=50, mode="private", all_pairs=True, mutations=1, imitations=1)
    params = co.make_params(norm, empathy=empathy, mutation=0.025, selection=1.0)
    return np.asarray(_evolve_runs(spec, params, jax.random.key(11), runs, gens))


@partial(jax.jit, static_argnums=(0, 3, 4))
def _evolve_runs(spec, params, key, runs, gens):
    def one(k):
        k1, k2 = jax.random.split(k)
        st = co.initial(spec, k1, THIRDS, random_strategies=True, random_views=True)
        _, m = co.run(spec, params, k2, st, gens)
        return m[gens // 2 :].mean(0)

    return jax.vmap(one)(jax.random.split(key, runs))


def leading_eight(size: float = 1.0) -> list[Row]:
    """The leading eight under public assessment, all discriminators, e1 = e2 = 0.02: the
    engine's standing against the closed form, and the least b/c for stability computed from
    the engine's standing against the closed form's."""
    n, steps = max(int(20_000 * size), 2_000), max(int(500 * size), 150)
    rows = []
    for k in range(1, 9) if size >= 1 else (1, 6, 8):
        norm = f"L{k}"
        spec = co.CoopSpec(agents=n, mode="public")
        m = _series(spec, co.make_params(norm), steps, 50, shares=(0, 0, 1))
        h, se = float(m[:, 7].mean()), float(_batch_se(m[:, 7]))
        exact = theory.public_standing(norm, 0.02, 0.02)
        rows.append(
            Row(
                "leading-eight",
                f"{norm}: good standing",
                exact,
                h,
                Z * se,
                GHM,
                f"N={n}, {steps - 50} steps; 4 SE (batch means)",
            )
        )
        bc = theory.min_benefit_cost(norm, 0.02, 0.02)
        lo = theory.min_benefit_cost(norm, 0.02, 0.02, h - Z * se)
        hi = theory.min_benefit_cost(norm, 0.02, 0.02, h + Z * se)
        rows.append(
            Row(
                "leading-eight",
                f"{norm}: least b/c for stability",
                bc,
                theory.min_benefit_cost(norm, 0.02, 0.02, h),
                abs(hi - lo) / 2 + 1e-9,
                GHM + " (16 deterministic invading action rules; equal to their Theorem 1)",
                "ours: the closed form at the engine's standing; tolerance: its range over "
                "the standing's 4 SE",
            )
        )
    return rows


def gossip(size: float = 1.0) -> list[Row]:
    """Gossip as unbiased copying, N = 20 observers with random views, no new observations:
    the mean disagreement after tau events against d0 (1 - 2/N^3)^tau."""
    n, reps = 20, max(int(2_000 * size), 400)
    rows = []
    spec = co.CoopSpec(agents=n, mode="private")
    for tau in (n**3 // 4, n**3):

        def one(k, tau=tau):
            k1, k2 = jax.random.split(k)
            st = co.initial(spec, k1, THIRDS, random_views=True)
            d0 = _disagreement(st.view)
            st = co.gossip(spec, k2, st, tau)
            return d0, _disagreement(st.view)

        d0, d = (
            np.asarray(x) for x in jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(3), reps))
        )
        expected = float(np.mean([theory.gossip_disagreement(x, n, tau) for x in d0]))
        rows.append(
            Row(
                "gossip",
                f"mean disagreement after tau={tau:,} events (N={n})",
                expected,
                float(d.mean()),
                Z * float(d.std(ddof=1) / np.sqrt(reps)),
                "voter-model algebra (docs/science.md); as in Kessinger, Tarnita & Plotkin "
                "(2023) and Kawakatsu et al. (2024) gossip models",
                f"{reps} replicates; 4 SE; disagreement over ordered observer pairs incl. self",
            )
        )
    return rows


def _disagreement(view: jax.Array) -> jax.Array:
    x = view.astype(jnp.float32).mean(0)  # per subject: share of observers holding good
    return (2 * x * (1 - x)).mean()


def granovetter(size: float = 1.0) -> list[Row]:
    """Granovetter (1978): 100 people with thresholds 0..99 all riot; raise the threshold 1 to
    2 and only one does."""
    del size
    base = jnp.arange(100)
    rows = []
    for label, th, expected in (
        ("thresholds 0..99: number who act", base, 100),
        ("threshold 1 raised to 2: number who act", base.at[1].set(2), 1),
    ):
        rows.append(
            Row(
                "granovetter",
                label,
                float(expected),
                float(cascade(th)),
                0.0,
                "Granovetter (1978), Threshold models of collective behavior, AJS 83:1420",
                "exact",
            )
        )
    return rows


@jax.jit
def cascade(thresholds: jax.Array) -> jax.Array:
    """Number acting at the fixed point: an agent acts once the number already acting is at
    least its threshold (a while_loop over rounds, each round whole-array)."""

    def body(carry):
        act, _ = carry
        new = thresholds <= act.sum()
        return new, act

    def cond(carry):
        act, old = carry
        return jnp.any(act != old)

    start = jnp.zeros(thresholds.shape, bool)
    act, _ = jax.lax.while_loop(cond, body, (thresholds <= 0, start))
    return act.sum()


def schelling(size: float = 1.0) -> list[Row]:
    """Schelling's model in a random state on a torus (Moore neighbourhood): the share of
    agents unhappy against the binomial closed form."""
    side, reps = max(int(256 * size), 64), 16
    rows = []
    for density, threshold in ((0.9, 0.5), (0.7, 0.3), (0.5, 0.7)):
        vals = np.asarray(
            _unhappy(jax.random.split(jax.random.key(5), reps), side, density, threshold)
        )
        rows.append(
            Row(
                "schelling",
                f"density {density}, wants >= {threshold} alike: share unhappy",
                theory.schelling_unhappy(density, threshold),
                float(vals.mean()),
                Z * float(vals.std(ddof=1) / np.sqrt(reps)),
                "Schelling (1971), Dynamic models of segregation, J. Math. Sociol. 1:143; "
                "binomial closed form",
                f"{reps} random {side}x{side} tori; 4 SE",
            )
        )
    return rows


def _unhappy(keys, side, density, threshold):
    def one(k):
        u = jax.random.uniform(k, (side, side))
        kind = jnp.where(u < density / 2, 1, jnp.where(u < density, 2, 0))
        alike = jnp.zeros((side, side))
        occ = jnp.zeros((side, side))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if dx == dy == 0:
                    continue
                nb = jnp.roll(kind, (dx, dy), (0, 1))
                occ = occ + (nb > 0)
                alike = alike + (nb == kind)
        unhappy = (kind > 0) & (occ > 0) & (alike < threshold * occ)
        return unhappy.sum() / (kind > 0).sum()

    return jax.vmap(one)(keys)


CASES: dict[str, Callable[[float], list[Row]]] = {
    "public": public_second_order,
    "rsp2019": rsp2019_thirds,
    "bureaus": bureaus,
    "institution": institution,
    "rkp2021-snapshot": rkp2021_snapshot,
    "rkp2021-evolution": rkp2021_evolution,
    "leading-eight": leading_eight,
    "gossip": gossip,
    "granovetter": granovetter,
    "schelling": schelling,
}
