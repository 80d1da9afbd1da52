"""Compile the cooperation section into a static CoopSpec and a CoopParams pytree
(engine/cooperation.py holds both types and the step)."""

from __future__ import annotations

from socialcredit.engine.cooperation import CoopParams, CoopSpec, make_params
from socialcredit.scenario.cooperation import Cooperation

MUTATION_SHARE = 0.01  # mutation attempts a day, as a share of the agents


def compile_cooperation(c: Cooperation, agents: int, padded: int) -> tuple[CoopSpec, CoopParams]:
    spec = CoopSpec(
        agents=agents,
        slots=padded,
        mode=c.assessment,
        observers=c.observers,
        bureaus=c.bureaus,
        partners=c.partners,
        mutations=max(int(round(MUTATION_SHARE * agents)), 1) if c.mutation > 0 else 0,
        imitations=int(round(c.imitation_rate * agents)),
        gossip=c.gossip,
        shares=(c.strategies.ALLC, c.strategies.ALLD, c.strategies.DISC),
    )
    params = make_params(
        c.norm,
        b=c.benefit,
        c=c.cost,
        e1=c.execution_error,
        e2=c.assessment_error,
        strictness=c.strictness,
        empathy=c.empathy,
        mutation=c.mutation,
        selection=c.selection,
        good_tiers=c.good_tiers,
    )
    return spec, params
