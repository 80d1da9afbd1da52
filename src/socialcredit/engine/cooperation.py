"""Cooperation: the donation game under indirect reciprocity, with the credit authority as a
public institution (docs/science.md).

Each step (a day of the engine, a generation of the science cases) runs, in the order of
Radzvilavicius, Kessinger & Plotkin's code (2021): strategy mutation, the day's donations and
payoffs, the reputation update (the institution's, the bureaus' or every observer's), gossip,
then imitation. Everything is a whole-array operation: no Python loop over agents.

Strategies: ALLC, ALLD, DISC (cooperates with partners it sees as good; with a third-order
norm its action may also depend on its own standing). A donor pays c, the recipient gets b; an
intended cooperation fails with probability e1 (a defection never becomes cooperation). An
observer judges the act by the norm's table good[donor standing, recipient standing, action]
and records the opposite verdict with probability e2.

Who holds the views (``CoopSpec.mode``):
- ``public``: one broadcast view [N]. An institution of Q observers each judges an act of
  its own (a random recipient, the donor acting afresh), the recipient's standing read from
  the broadcast; the donor is broadcast good when more than q*Q observers judge good.
- ``bureaus``: M independent broadcast views [M, N]; agent i follows bureau i mod M.
- ``private``: every agent's own view [N, N] (small populations); an observer judging an act
  takes the donor's view of the recipient with probability E (empathy), else its own.
- ``tiers``: the credit system's tiers are the broadcast view (good: in the top
  ``good_tiers`` tiers and not blacklisted); the game does not update them.

``all_pairs`` (small N) makes every donor act towards every recipient once a step, self
included, and observers sample those acts, exactly as the authors' code; otherwise each donor
meets ``partners`` random partners (never itself) and each observer sees one fresh act.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

ALLC, ALLD, DISC = 0, 1, 2
STRATEGIES = ("ALLC", "ALLD", "DISC")
MODES = ("public", "bureaus", "private", "tiers")

# Assessment tables, index donor_good * 4 + recipient_good * 2 + cooperated (1 = good), the
# order of Glynatsi, Hilbe & Murase's Norms.hpp: BBD BBC BGD BGC GBD GBC GGD GGC; and DISC's
# action rule, index donor_good * 2 + recipient_good (1 = cooperate): BB BG GB GG.
SECOND = (0, 1, 0, 1)  # cooperate with the good only, whatever the donor's standing
NORMS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "stern_judging": ((1, 0, 0, 1, 1, 0, 0, 1), SECOND),
    "simple_standing": ((1, 1, 0, 1, 1, 1, 0, 1), SECOND),
    "scoring": ((0, 1, 0, 1, 0, 1, 0, 1), SECOND),
    "shunning": ((0, 0, 0, 1, 0, 0, 0, 1), SECOND),
    # the leading eight (Ohtsuki & Iwasa 2004), as in Glynatsi, Hilbe & Murase's Norms.hpp
    "L1": ((0, 1, 0, 1, 1, 1, 0, 1), (1, 1, 0, 1)),
    "L2": ((0, 1, 0, 1, 1, 0, 0, 1), (1, 1, 0, 1)),
    "L3": ((1, 1, 0, 1, 1, 1, 0, 1), SECOND),
    "L4": ((1, 0, 0, 1, 1, 1, 0, 1), SECOND),
    "L5": ((1, 1, 0, 1, 1, 0, 0, 1), SECOND),
    "L6": ((1, 0, 0, 1, 1, 0, 0, 1), SECOND),
    "L7": ((0, 0, 0, 1, 1, 1, 0, 1), SECOND),
    "L8": ((0, 0, 0, 1, 1, 0, 0, 1), SECOND),
}


@dataclass(frozen=True)
class CoopSpec:
    """Static facts of the game: sizes and which parts run (hashable: part of the jit key)."""

    agents: int  # players: slots [0, agents) of the population
    slots: int = 0  # length of the carried arrays (the engine's padded size; 0: agents)
    mode: str = "public"
    observers: int = 1  # Q, the institution's observers (public mode)
    bureaus: int = 1  # M (bureaus mode)
    all_pairs: bool = False
    partners: int = 1  # partners a donor meets a step (without all_pairs)
    mutations: int = 0  # mutation attempts a step (each with probability CoopParams.mutation)
    imitations: int = 0  # pairwise comparisons a step (Fermi rule)
    gossip: int = 0  # gossip events a step (private mode), applied one after another
    # private mode: an institution of `observers` members also broadcasts a view nobody acts
    # on (State.board), reading its own broadcast of the recipient (an independent board) or
    # members 0 .. Q-1's private views with empathy (not independent)
    board: bool = False
    independent_board: bool = True
    shares: tuple[float, float, float] = (0.0, 0.0, 1.0)  # ALLC, ALLD, DISC at the start

    @property
    def n(self) -> int:
        return self.slots or self.agents


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class CoopParams:
    """Every number of the game as an array (sweeps vmap over them without recompiling)."""

    b: jax.Array  # benefit to the recipient
    c: jax.Array  # cost to the donor
    e1: jax.Array  # execution error: an intended cooperation fails
    e2: jax.Array  # assessment error: the opposite verdict is recorded
    good: jax.Array  # float32 [8] probability the norm judges good (index above)
    action: jax.Array  # float32 [4] probability DISC cooperates (index above)
    strictness: jax.Array  # q: broadcast good when more than q*Q observers judge good
    empathy: jax.Array  # E (private mode)
    mutation: jax.Array  # chance that a mutation attempt changes a strategy
    selection: jax.Array  # w of the Fermi rule
    good_tiers: jax.Array  # int32: tiers 0 .. good_tiers - 1 are good (tiers mode)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class CoopState:
    strategy: jax.Array  # int8 [N]
    view: jax.Array  # uint8 [N] public; [M, N] bureaus; [N, N] private (row: observer)
    payoff: jax.Array  # float32 [N] this step's payoff per partner
    given: jax.Array  # float32 [1] share of today's donations that were cooperation
    board: jax.Array  # uint8 [N] the institution's broadcast beside private views; else [0]


def make_params(
    norm: str = "stern_judging",
    *,
    b: float = 5.0,
    c: float = 1.0,
    e1: float = 0.02,
    e2: float = 0.02,
    strictness: float = 0.5,
    empathy: float = 0.0,
    mutation: float = 0.0,
    selection: float = 1.0,
    good_tiers: int = 1,
) -> CoopParams:
    good, action = NORMS[norm]
    f = _f32
    return CoopParams(
        b=f(b),
        c=f(c),
        e1=f(e1),
        e2=f(e2),
        good=jnp.asarray(good, jnp.float32),
        action=jnp.asarray(action, jnp.float32),
        strictness=f(strictness),
        empathy=f(empathy),
        mutation=f(mutation),
        selection=f(selection),
        good_tiers=jnp.asarray(good_tiers, jnp.int32),
    )


def _f32(x: float) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


def initial(
    cs: CoopSpec,
    key: jax.Array,
    shares: tuple[float, float, float],
    random_strategies: bool = False,
    random_views: bool = False,
) -> CoopState:
    """Strategies in the given shares: exact counts in blocks ALLC, ALLD, DISC (partners are
    drawn at random, so the layout does not matter), or each drawn independently with those
    probabilities; every view starts good, or good with probability 1/2."""
    n, a = cs.n, cs.agents
    k1, k2, k3 = jax.random.split(key, 3)
    if random_strategies:
        strat = jax.random.choice(k1, 3, (a,), p=jnp.asarray(shares)).astype(jnp.int8)
    else:
        counts = np.floor(np.asarray(shares) * a + 1e-9).astype(int)
        counts[2] = a - counts[0] - counts[1]
        strat = jnp.asarray(np.concatenate([np.full(k, s, np.int8) for s, k in enumerate(counts)]))
    strat = jnp.concatenate([strat, jnp.full(n - a, ALLD, jnp.int8)])
    shape = {"public": (n,), "tiers": (n,), "bureaus": (cs.bureaus, n), "private": (n, n)}
    view = jnp.ones(shape[cs.mode], jnp.uint8)
    board = jnp.ones(n if cs.board else 0, jnp.uint8)
    if random_views:
        view = jax.random.bernoulli(k2, 0.5, view.shape).astype(jnp.uint8)
        board = jax.random.bernoulli(k3, 0.5, board.shape).astype(jnp.uint8)
    return CoopState(
        strategy=strat,
        view=view,
        payoff=jnp.zeros(n, jnp.float32),
        given=jnp.zeros((1,), jnp.float32),
        board=board,
    )


def start(cs: CoopSpec, key: jax.Array) -> CoopState:
    """The engine's initial game state: the spec's shares, every view good."""
    return initial(cs, jax.random.fold_in(key, STAGE), cs.shares)


STAGE = 0x636F6F70  # the game's stream: fold_in(key, STAGE), then the day


# ----------------------------------------------------------------------------- the step


def _bern(key: jax.Array, p: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    return jax.random.uniform(key, shape) < p


def _others(key: jax.Array, donors: jax.Array, a: int) -> jax.Array:
    """A uniform random partner of each donor among the other a - 1 players."""
    r = jax.random.randint(key, donors.shape, 0, max(a - 1, 1), jnp.int32)
    return jnp.where(r >= donors, r + 1, r) if a > 1 else r


def _act(key, p: CoopParams, strategy, own_good, recip_good) -> jax.Array:
    """Whether each donor cooperates (after the execution error), given its strategy, its own
    standing and its view of the recipient (arrays of one shape)."""
    k1, k2 = jax.random.split(key)
    rule = p.action[own_good.astype(jnp.int32) * 2 + recip_good.astype(jnp.int32)]
    disc = jax.random.uniform(k1, strategy.shape) < rule
    intend = (strategy == ALLC) | ((strategy == DISC) & disc)
    return intend & ~_bern(k2, p.e1, strategy.shape)


def _judge(key, p: CoopParams, donor_good, recip_good, coop) -> jax.Array:
    """The verdict recorded (the norm's, flipped with probability e2)."""
    k1, k2 = jax.random.split(key)
    idx = donor_good.astype(jnp.int32) * 4 + recip_good.astype(jnp.int32) * 2 + coop
    verdict = jax.random.uniform(k1, coop.shape) < p.good[idx]
    return verdict ^ _bern(k2, p.e2, coop.shape)


def views_of(cs: CoopSpec, state: CoopState, who: jax.Array, of: jax.Array) -> jax.Array:
    """Whether ``who`` sees ``of`` as good (broadcast modes ignore ``who``)."""
    if cs.mode in ("public", "tiers"):
        return state.view[of] == 1
    if cs.mode == "bureaus":
        return state.view[who % cs.bureaus, of] == 1
    return state.view[who, of] == 1


def step(
    cs: CoopSpec,
    p: CoopParams,
    key: jax.Array,
    state: CoopState,
    broadcast: jax.Array | None = None,
) -> CoopState:
    """One step: mutation, donations and payoffs, reputations, gossip, imitation.

    ``broadcast`` (tiers mode): bool [N], the credit system's verdict on each agent today.
    """
    km, ka, kr, kg, ki = jax.random.split(key, 5)
    if cs.mode == "tiers":
        state = replace(state, view=_keep_ghosts(cs, broadcast.astype(jnp.uint8), state.view))
    if cs.mutations:
        state = _mutate(cs, p, km, state)
    state, acts = _donate(cs, p, ka, state)
    if cs.mode != "tiers":
        new = _reputations(cs, p, kr, state, acts)
        view = _keep_ghosts(cs, new.view, state.view)
        state = replace(new, view=view, board=_keep_ghosts(cs, new.board, state.board))
    if cs.gossip and cs.mode == "private":
        state = gossip(cs, kg, state, cs.gossip)
    if cs.imitations:
        state = _imitate(cs, p, ki, state)
    return state


def _keep_ghosts(cs: CoopSpec, new: jax.Array, old: jax.Array) -> jax.Array:
    """``new`` where observer and subject are players, ``old`` for padding slots (engine
    arrays are padded; a ghost's views stay as they were born)."""
    if new.shape[-1] != cs.n or cs.n == cs.agents:
        return new
    live = jnp.arange(cs.n) < cs.agents
    mask = live[:, None] & live[None, :] if cs.mode == "private" else live
    return jnp.where(mask, new, old)


def _mutate(cs: CoopSpec, p: CoopParams, key, state: CoopState) -> CoopState:
    """Each attempt picks a random player and, with probability ``mutation``, moves it one step
    in the (p_good, p_bad) strategy space as the authors' code does: ALLC or ALLD to DISC, DISC
    to ALLC or ALLD (the reverse discriminator being absent, half the ALLC/ALLD moves fail)."""
    k1, k2, k3 = jax.random.split(key, 3)
    m = cs.mutations
    who = jax.random.randint(k1, (m,), 0, cs.agents)
    fire = _bern(k2, p.mutation, (m,))
    coin = jax.random.randint(k3, (m,), 0, 2).astype(jnp.int8)
    old = state.strategy[who]
    new = jnp.where(old == DISC, coin, jnp.where(coin == 0, jnp.int8(DISC), old))
    return replace(state, strategy=state.strategy.at[who].set(jnp.where(fire, new, old)))


def _own(cs: CoopSpec, state: CoopState, i: jax.Array) -> jax.Array:
    """Each donor's own standing, as it sees it (third-order action rules)."""
    return views_of(cs, state, i, i)


def _donate(cs: CoopSpec, p: CoopParams, key, state: CoopState):
    n, a = cs.n, cs.agents
    idx = jnp.arange(n, dtype=jnp.int32)
    live = idx < a
    if cs.all_pairs:
        i, j = idx[:, None], idx[None, :]
        own = jnp.broadcast_to(_own(cs, state, idx)[:, None], (n, n))
        strat = jnp.broadcast_to(state.strategy[:, None], (n, n))
        acts = _act(key, p, strat, own, views_of(cs, state, i, j))
        acts = acts & live[:, None] & live[None, :]
        got = acts.sum(0, dtype=jnp.float32) / a
        gave = acts.sum(1, dtype=jnp.float32) / a
        payoff = p.b * got - p.c * gave
        given = (acts.sum(dtype=jnp.float32) / (a * a))[None]
        return replace(state, payoff=payoff * live, given=given), acts
    got = jnp.zeros(n, jnp.float32)
    gave = jnp.zeros(n, jnp.float32)
    own = _own(cs, state, idx)
    for k in jax.random.split(key, cs.partners):  # a static handful, not over agents
        k1, k2 = jax.random.split(k)
        r = _others(k1, idx, a)
        c = _act(k2, p, state.strategy, own, views_of(cs, state, idx, r)) & live
        got = got.at[r].add(c.astype(jnp.float32))
        gave = gave + c
    payoff = (p.b * got - p.c * gave) / cs.partners
    given = (gave.sum() / (a * cs.partners))[None]
    return replace(state, payoff=payoff * live, given=given), None


def _observed(cs, p, key, state, acts, observer, donor):
    """An act of ``donor`` for ``observer`` to judge: (recipient, cooperated). With all pairs
    it is one of the step's acts; otherwise the donor acts afresh towards a random partner."""
    k1, k2 = jax.random.split(key)
    if cs.all_pairs:
        r = jax.random.randint(k1, donor.shape, 0, cs.agents)
        return r, acts[donor, r]
    r = _others(k1, donor, cs.agents)
    own = _own(cs, state, donor)
    coop = _act(k2, p, state.strategy[donor], own, views_of(cs, state, donor, r))
    return r, coop


def _reputations(cs: CoopSpec, p: CoopParams, key, state: CoopState, acts) -> CoopState:
    n = cs.n
    idx = jnp.arange(n, dtype=jnp.int32)
    if cs.mode == "public":

        def one(o, count):
            k1, k2 = jax.random.split(jax.random.fold_in(key, o))
            r, coop = _observed(cs, p, k1, state, acts, idx, idx)
            v = _judge(k2, p, state.view[idx] == 1, state.view[r] == 1, coop.astype(jnp.int32))
            return count + v

        count = jax.lax.fori_loop(0, cs.observers, one, jnp.zeros(n, jnp.int32))
        good = count > p.strictness * cs.observers
        return replace(state, view=good.astype(jnp.uint8))
    if cs.mode == "bureaus":
        m = cs.bureaus
        obs = jnp.broadcast_to(jnp.arange(m, dtype=jnp.int32)[:, None], (m, n))
        don = jnp.broadcast_to(idx[None, :], (m, n))
        k1, k2 = jax.random.split(key)
        r, coop = _observed(cs, p, k1, state, acts, obs, don)
        v = _judge(
            k2, p, state.view[obs, don] == 1, state.view[obs, r] == 1, coop.astype(jnp.int32)
        )
        return replace(state, view=v.astype(jnp.uint8))
    # private: every observer (rows) judges every donor (columns)
    obs = jnp.broadcast_to(idx[:, None], (n, n))
    don = jnp.broadcast_to(idx[None, :], (n, n))
    k1, k2, k3, k4 = jax.random.split(key, 4)
    r, coop = _observed(cs, p, k1, state, acts, obs, don)
    empathic = _bern(k3, p.empathy, (n, n))
    recip = jnp.where(empathic, state.view[don, r], state.view[obs, r]) == 1
    v = _judge(k2, p, state.view[obs, don] == 1, recip, coop.astype(jnp.int32))
    board = _board(cs, p, k4, state, acts) if cs.board else state.board
    return replace(state, view=v.astype(jnp.uint8), board=board)


def _board(cs: CoopSpec, p: CoopParams, key, state: CoopState, acts) -> jax.Array:
    """The institution beside private views: Q members each judge an act of their own of each
    donor; the broadcast is good when more than q*Q judge good."""
    q, n = cs.observers, cs.n
    mem = jnp.broadcast_to(jnp.arange(q, dtype=jnp.int32)[:, None], (q, n))
    don = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32)[None, :], (q, n))
    k1, k2, k3 = jax.random.split(key, 3)
    r, coop = _observed(cs, p, k1, state, acts, mem, don)
    if cs.independent_board:
        recip, own = state.board[r] == 1, state.board[don] == 1
    else:
        empathic = _bern(k3, p.empathy, (q, n))
        recip = jnp.where(empathic, state.view[don, r], state.view[mem, r]) == 1
        own = state.view[mem, don] == 1
    count = _judge(k2, p, own, recip, coop.astype(jnp.int32)).sum(0)
    return (count > p.strictness * q).astype(jnp.uint8)


def gossip(cs: CoopSpec, key: jax.Array, state: CoopState, events: int) -> CoopState:
    """``events`` gossip events, one after another: a listener, a speaker and a subject drawn
    uniformly (with replacement) from the players; the listener adopts the speaker's view of
    the subject."""
    draws = jax.random.randint(key, (events, 3), 0, cs.agents)

    def one(view, d):
        return view.at[d[0], d[2]].set(view[d[1], d[2]]), None

    view, _ = jax.lax.scan(one, state.view, draws)
    return replace(state, view=view)


def _imitate(cs: CoopSpec, p: CoopParams, key, state: CoopState) -> CoopState:
    """Pairwise comparison (Fermi rule): a random player (the learner) copies a random model's
    strategy with probability 1 / (1 + exp(-w (payoff_model - payoff_learner))). Several
    comparisons a step run at once (rare collisions resolve to one of them)."""
    k1, k2, k3 = jax.random.split(key, 3)
    m = cs.imitations
    model = jax.random.randint(k1, (m,), 0, cs.agents)
    learner = jax.random.randint(k2, (m,), 0, cs.agents)
    diff = state.payoff[model] - state.payoff[learner]
    take = jax.random.uniform(k3, (m,)) < jax.nn.sigmoid(p.selection * diff)
    new = jnp.where(take, state.strategy[model], state.strategy[learner])
    return replace(state, strategy=state.strategy.at[learner].set(new))


# ----------------------------------------------------------------------------- measures


def measures(cs: CoopSpec, state: CoopState) -> jax.Array:
    """float32 [12]: per strategy (ALLC, ALLD, DISC) its share, the share of views that see
    its members as good, and their mean payoff; then the share of donations that cooperated,
    the share of all views that are good and the institution's good share (MEASURES)."""
    a = cs.agents
    live = jnp.arange(cs.n) < a
    if cs.mode in ("public", "tiers"):
        seen = state.view.astype(jnp.float32)
    else:
        v = state.view[: cs.bureaus] if cs.mode == "bureaus" else state.view[:a]
        seen = v.astype(jnp.float32).mean(0)
    out = []
    for s in range(3):
        m = (state.strategy == s) & live
        k = m.sum(dtype=jnp.float32)
        out += [
            k / a,
            jnp.where(k > 0, (seen * m).sum() / jnp.maximum(k, 1), jnp.nan),
            jnp.where(k > 0, (state.payoff * m).sum() / jnp.maximum(k, 1), jnp.nan),
        ]
    board = state.board[:a].astype(jnp.float32).mean() if cs.board else jnp.float32(jnp.nan)
    return jnp.stack([*out, state.given[0], seen[:a].mean(), board])


MEASURES = tuple(f"{s}.{q}" for s in STRATEGIES for q in ("share", "good", "payoff")) + (
    "cooperation",
    "good",  # share of all views (observer x subject) that are good
    "board",  # share the institution broadcasts as good (private mode with a board)
)


def run(
    cs: CoopSpec,
    p: CoopParams,
    key: jax.Array,
    state: CoopState,
    steps: int,
) -> tuple[CoopState, jax.Array]:
    """``steps`` steps as a ``lax.scan``; returns the final state and measures [steps, 12]."""

    def body(st, t):
        st = step(cs, p, jax.random.fold_in(key, t), st)
        return st, measures(cs, st)

    return jax.lax.scan(body, state, jnp.arange(steps))


run_jit = jax.jit(run, static_argnums=(0, 4))
