"""The scenario language for cooperation: the donation game under indirect reciprocity, with
the credit authority as a public institution (engine/cooperation.py, docs/science.md).

Optional: a scenario without the section plays no game and pays nothing for it. With
``assessment: tiers`` the credit system's tiers are the broadcast reputation that
discriminators act on, which links the game to the essay's system; ``public`` and ``bureaus``
give the game its own institution(s), and ``private`` every agent its own view (N x N bytes,
so only for small populations).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .rules import FieldPath, Issue
from .types import NonNegFloat, Probability, Strict

Norm = Literal[
    "stern_judging",
    "simple_standing",
    "scoring",
    "shunning",
    "L1",
    "L2",
    "L3",
    "L4",
    "L5",
    "L6",
    "L7",
    "L8",
]
Assessment = Literal["tiers", "public", "bureaus", "private"]
PRIVATE_MAX = 4096  # private views are N x N bytes


class Strategies(Strict):
    ALLC: Probability = Field(default=0.0, description="Share who always cooperate.")
    ALLD: Probability = Field(default=0.0, description="Share who always defect.")
    DISC: Probability = Field(
        default=1.0, description="Share who cooperate only with partners they see as good."
    )


class Cooperation(Strict):
    norm: Norm = Field(
        default="stern_judging",
        description="How an act is judged: second order (stern_judging, simple_standing, "
        "scoring, shunning) or third order (the leading eight L1..L8).",
    )
    assessment: Assessment = Field(
        default="tiers",
        description="Who holds the reputations: the credit system's tiers, a public "
        "institution, several bureaus, or every agent privately.",
    )
    strategies: Strategies = Strategies()
    benefit: NonNegFloat = Field(default=5.0, description="What a recipient gets.")
    cost: NonNegFloat = Field(default=1.0, description="What a cooperating donor pays.")
    execution_error: Probability = Field(
        default=0.02, description="Chance an intended cooperation fails."
    )
    assessment_error: Probability = Field(
        default=0.02, description="Chance an observer records the opposite verdict."
    )
    observers: Annotated[int, Field(ge=1, le=64)] = Field(
        default=1, description="Q: the institution's observers, each judging an act of its own."
    )
    strictness: Probability = Field(
        default=0.5, description="q: broadcast good when more than q*Q observers judge good."
    )
    bureaus: Annotated[int, Field(ge=1, le=64)] = Field(
        default=1, description="M independent bureaus (assessment: bureaus)."
    )
    empathy: Probability = Field(
        default=0.0, description="E: chance an observer judges by the donor's view (private)."
    )
    partners: Annotated[int, Field(ge=1, le=16)] = Field(
        default=1, description="Partners a donor meets a day."
    )
    good_tiers: Annotated[int, Field(ge=1, le=32)] = Field(
        default=1,
        description="assessment: tiers: the top tiers counted good (the blacklisted are bad).",
    )
    imitation_rate: Probability = Field(
        default=0.0, description="Share of agents who compare payoffs with another each day."
    )
    mutation: Probability = Field(
        default=0.0, description="Chance a mutation attempt (1% of agents a day) succeeds."
    )
    selection: NonNegFloat = Field(default=1.0, description="w of the Fermi imitation rule.")
    gossip: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        default=0, description="Gossip events a day (assessment: private)."
    )

    def issues(self, path: FieldPath, agents: int, max_tiers: int) -> list[Issue]:
        out: list[Issue] = []
        s = self.strategies
        total = s.ALLC + s.ALLD + s.DISC
        if abs(total - 1.0) > 1e-6:
            out.append(
                (
                    path + ("strategies",),
                    total,
                    f"strategy shares sum to {total:g}; make ALLC + ALLD + DISC = 1",
                )
            )
        if self.assessment == "private" and agents > PRIVATE_MAX:
            out.append(
                (
                    path + ("assessment",),
                    self.assessment,
                    f"private views take N x N bytes; {agents:,} agents is more than "
                    f"{PRIVATE_MAX:,}; use public, bureaus or tiers, or fewer agents",
                )
            )
        if self.gossip and self.assessment != "private":
            out.append(
                (
                    path + ("gossip",),
                    self.gossip,
                    "gossip copies private views; set assessment: private or gossip: 0",
                )
            )
        if self.assessment == "tiers" and max_tiers and self.good_tiers > max_tiers:
            out.append(
                (
                    path + ("good_tiers",),
                    self.good_tiers,
                    f"the programmes have at most {max_tiers} tiers; make good_tiers at most "
                    f"{max_tiers}",
                )
            )
        return out
