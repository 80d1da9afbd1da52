"""Closed forms the validation cases compare the engine with (derivations in docs/science.md).

Conventions, the same as the engine's (engine/cooperation.py): e1 is the execution error (an
intended cooperation becomes a defection, never the reverse), e2 the assessment error (the
observer records the opposite of the norm's verdict). Norm tables are indexed as in
``cooperation.NORMS``: good[donor_good * 4 + recipient_good * 2 + cooperated] and
action[donor_good * 2 + recipient_good].
"""

from __future__ import annotations

import math

import numpy as np

from socialcredit.engine.cooperation import NORMS, SECOND


def _rescaled(norm: str, e1: float, e2: float) -> tuple[np.ndarray, np.ndarray]:
    """The norm's tables with the errors folded in: R'(x) = (1 - e2) R + e2 (1 - R),
    S' = (1 - e1) S (Glynatsi, Hilbe & Murase's RescaleWithError)."""
    good, action = (np.asarray(t, float) for t in NORMS[norm])
    return (1 - e2) * good + e2 * (1 - good), (1 - e1) * action


def _rs(r: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Probability a donor of standing d meeting a recipient of standing q is judged good,
    acting by rule s: RS[d * 2 + q]."""
    return np.array([r[k * 2 + 1] * s[k] + r[k * 2] * (1 - s[k]) for k in range(4)])


def public_standing(norm: str, e1: float, e2: float) -> float:
    """Stationary good share h of a population of discriminators under public assessment
    (everyone, the institution included, holds one view; donor standing counts for
    third-order norms): the root in [0, 1] of
    h = h^2 RS_GG + h (1 - h) (RS_GB + RS_BG) + (1 - h)^2 RS_BB."""
    r, s = _rescaled(norm, e1, e2)
    bb, bg, gb, gg = _rs(r, s)
    c2, c1, c0 = gg - gb - bg + bb, gb + bg - 2 * bb - 1, bb
    if abs(c2) < 1e-12:
        return -c0 / c1
    return (-c1 - math.sqrt(c1 * c1 - 4 * c2 * c0)) / (2 * c2)


def invader(norm: str, e1: float, e2: float, rule: np.ndarray, h: float | None = None):
    """(H, cooperation of the invader towards residents, of residents towards the invader)
    for a single invader using action ``rule`` [4] among residents of the norm."""
    r, s = _rescaled(norm, e1, e2)
    h = public_standing(norm, e1, e2) if h is None else h
    sm = (1 - e1) * np.asarray(rule, float)
    bb, bg, gb, gg = _rs(r, sm)
    den = 1 - h * gg + h * bg - (1 - h) * gb + (1 - h) * bb
    # den = 0: both standings absorbing (no errors); the invader keeps its first, good, one
    big_h = (h * bg + (1 - h) * bb) / den if abs(den) > 1e-15 else 1.0
    # rule index: own standing * 2 + partner's standing
    out = h * big_h * sm[3] + (1 - h) * big_h * sm[2] + h * (1 - big_h) * sm[1]
    out += (1 - h) * (1 - big_h) * sm[0]
    inn = h * big_h * s[3] + h * (1 - big_h) * s[2] + (1 - h) * big_h * s[1]
    inn += (1 - h) * (1 - big_h) * s[0]
    return big_h, out, inn


def min_benefit_cost(norm: str, e1: float, e2: float, h: float | None = None) -> float:
    """The least b/c at which the norm's action rule is evolutionarily stable against every
    other deterministic action rule (16 of them) under public assessment: the resident's
    payoff (b - c) x its cooperation must be at least each invader's b x (residents'
    cooperation towards it) - c x (its cooperation). ``h``: the residents' standing (default:
    the closed form). inf where some rule does at least as well for every b/c."""
    r, s = _rescaled(norm, e1, e2)
    h = public_standing(norm, e1, e2) if h is None else h
    res = h * h * s[3] + h * (1 - h) * (s[2] + s[1]) + (1 - h) ** 2 * s[0]
    own = tuple(NORMS[norm][1])
    low, high = 0.0, math.inf
    for i in range(16):
        rule = np.array([(i >> k) & 1 for k in range(4)], float)
        if tuple(int(x) for x in rule) == own:
            continue
        _, out, inn = invader(norm, e1, e2, rule, h)
        a, b = res - inn, res - out  # need bc_ratio * a >= b
        if a > 1e-12:
            low = max(low, b / a)
        elif a < -1e-12:
            high = min(high, b / a)
        elif b > 1e-12:
            return math.inf
    return low if low <= high else math.inf


def delta_v_threshold(norm: str, e1: float, e2: float) -> float:
    """The same threshold from Glynatsi, Hilbe & Murase's Theorem 1: cooperating where the
    rule says so is stable iff (R'(X,Y,C) - R'(X,Y,D)) dv > c, dv the value of a good
    standing, dv = (b N1 - c N2) / Den; the least b/c over the contexts where it cooperates."""
    r, s = _rescaled(norm, e1, e2)
    h = public_standing(norm, e1, e2)
    bb, bg, gb, gg = _rs(r, s)
    n1 = h * (s[3] - s[2]) + (1 - h) * (s[1] - s[0])
    n2 = h * (s[3] - s[1]) + (1 - h) * (s[2] - s[0])
    den = 1 - h * (gg - bg) - (1 - h) * (gb - bb)
    need = 0.0
    for k in range(4):
        gap = r[k * 2 + 1] - r[k * 2]
        if NORMS[norm][1][k] == 1:  # (gap (b n1 - c n2) / den > c)
            need = max(need, (den / gap + n2) / n1)
    return need


def private_reputations(
    norm: str,
    shares: tuple[float, float, float],
    e1: float,
    e2: float,
    empathy: float,
    iterations: int = 20_000,
    bureaus: int = 0,
) -> tuple[np.ndarray, float, float]:
    """Radzvilavicius, Stewart & Plotkin (2019), second-order norms: the good shares g_X of
    ALLC, ALLD, DISC under private assessment with empathy E, with g = sum f_X g_X and
    g2 = sum f_X g_X^2 (two observers' independent views of one individual). A discriminating
    donor acts on its own view of the recipient; the observer judges with its own view, or
    with the donor's with probability E. Returns (g_X, g, g2) at the fixed point reached from
    everyone good.

    ``bureaus`` = M > 0: M equal bureaus instead (each agent follows bureau i mod M, E unused).
    A bureau judging a donor of its own shares the donor's view (as E = 1); another bureau
    holds an independent view (as E = 0), but a discriminator is seen good by its own bureau
    with g_o and by the others with g_x, so two bureaus' views of one discriminator agree with
    probability (2/M) g_o g_x + (1 - 2/M) g_x^2, not g_DISC^2. So E = 1/M is exact only for
    M = 1 and approximate otherwise (docs/science.md). g_DISC = g_o / M + (1 - 1/M) g_x.
    """
    good, action = NORMS[norm]
    assert tuple(action) == SECOND, "second-order norms only"
    r = (1 - e2) * np.asarray(good[4:], float) + e2 * (1 - np.asarray(good[4:], float))

    def judged(coop_intended: bool, rg: int) -> float:  # P(good | intent, recipient standing)
        if coop_intended:
            return (1 - e1) * r[rg * 2 + 1] + e1 * r[rg * 2]
        return r[rg * 2]

    def disc(joint: np.ndarray) -> float:  # joint: (donor's, observer's view) GG GB BG BB
        return (
            joint[0] * judged(True, 1)
            + joint[1] * judged(True, 0)
            + joint[2] * judged(False, 1)
            + joint[3] * judged(False, 0)
        )

    f = np.asarray(shares, float)
    gx = np.ones(3)
    go = gxx = 1.0  # bureaus: DISC seen good by its own bureau, by another
    m = max(bureaus, 1)
    for _ in range(iterations):
        g = f @ gx
        allc = g * judged(True, 1) + (1 - g) * judged(True, 0)
        alld = g * judged(False, 1) + (1 - g) * judged(False, 0)
        same = np.array([g, 0.0, 0.0, 1 - g])
        if bureaus:
            d2 = (2 / m) * go * gxx + (1 - 2 / m) * gxx**2 if m > 1 else gxx**2
            g2 = f[0] * gx[0] ** 2 + f[1] * gx[1] ** 2 + f[2] * d2
            go, gxx = disc(same), disc(np.array([g2, g - g2, g - g2, 1 - 2 * g + g2]))
            new = np.array([allc, alld, go / m + (1 - 1 / m) * gxx])
        else:
            g2 = f @ gx**2
            other = np.array([g2, g - g2, g - g2, 1 - 2 * g + g2])
            new = np.array([allc, alld, disc((1 - empathy) * other + empathy * same)])
        if np.max(np.abs(new - gx)) < 1e-15:
            gx = new
            break
        gx = new
    return gx, float(f @ gx), float(f @ gx**2)


def payoffs(
    shares: tuple[float, float, float], gx: np.ndarray, g: float, b: float, c: float, e1: float
) -> np.ndarray:
    """Expected payoff per interaction of ALLC, ALLD, DISC (each acts once as donor and once
    as recipient): b (1 - e1) (f_ALLC + f_DISC g_X) - c (1 - e1) x (1, 0, g)."""
    fc, _, fz = shares
    got = b * (1 - e1) * (fc + fz * np.asarray(gx))
    return got - c * (1 - e1) * np.array([1.0, 0.0, g])


def institution_reputations(
    norm: str,
    shares: tuple[float, float, float],
    e1: float,
    e2: float,
    observers: int,
    strictness: float,
    iterations: int = 10_000,
) -> tuple[np.ndarray, float]:
    """Radzvilavicius, Kessinger & Plotkin (2021): everyone acts on an institution's broadcast;
    its Q observers each judge an act of their own (reading the broadcast standing of the
    recipient); the donor is broadcast good when more than q*Q judge good. One observer judges
    a member of X good with probability p_X(G) (the public formula at broadcast good share G);
    g_X = P(Binomial(Q, p_X) > qQ); G = sum f_X g_X, iterated from G = 1 (everyone good)."""
    good, action = NORMS[norm]
    r = (1 - e2) * np.asarray(good[4:], float) + e2 * (1 - np.asarray(good[4:], float))
    coop_g = (1 - e1) * r[3] + e1 * r[2]
    coop_b = (1 - e1) * r[1] + e1 * r[0]
    f = np.asarray(shares, float)
    big = 1.0
    q_min = math.floor(strictness * observers) + 1  # more than q*Q
    for _ in range(iterations):
        p = np.array(
            [
                big * coop_g + (1 - big) * coop_b,
                big * r[2] + (1 - big) * r[0],
                big * coop_g + (1 - big) * r[0],
            ]
        )
        gx = np.array([binom_tail(observers, float(x), q_min) for x in p])
        new = float(f @ gx)
        if abs(new - big) < 1e-15:
            break
        big = new
    return gx, big


def binom_tail(n: int, p: float, k: int) -> float:
    """P(Binomial(n, p) >= k)."""
    return float(sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(max(k, 0), n + 1)))


def gossip_disagreement(d0: float, agents: int, events: int) -> float:
    """Expected disagreement after ``events`` gossip events (listener, speaker and subject
    uniform with replacement; the listener copies the speaker's view of the subject):
    d0 (1 - 2 / N^3)^tau. For one subject held good by a share x of the N observers, the
    disagreement over ordered observer pairs is 2 x (1 - x); an event about that subject moves
    x by +-1/N with probability x (1 - x) each way, so E[x (1 - x)] shrinks by 2 x (1 - x)/N^2;
    an event is about a given subject with probability 1/N."""
    return d0 * (1 - 2 / agents**3) ** events


def schelling_unhappy(density: float, threshold: float, neighbours: int = 8) -> float:
    """Probability that an agent is unhappy in a random state: each other cell independently
    empty (1 - density) or of either of two types (density / 2 each); an agent is unhappy when
    fewer than ``threshold`` of its occupied neighbours are of its type (no occupied neighbour:
    content). Sum over n occupied neighbours ~ Binomial(8, density) and s alike ~
    Binomial(n, 1/2)."""
    total = 0.0
    for n in range(1, neighbours + 1):
        pn = math.comb(neighbours, n) * density**n * (1 - density) ** (neighbours - n)
        for s in range(n + 1):
            if s < threshold * n:
                total += pn * math.comb(n, s) * 0.5**n
    return total
