"""The scenario language for attitudes: each person's approval of the system.

Approval is the chance that a person says they approve of the system when asked (so the mean
over people is the share a survey would find approving). It starts at a level by group and
moves with what the system does to the person (sanctions, wrongful records, rewards) and to
those around them (contacts sanctioned or rewarded), recovering slowly towards its starting
level. Calibration targets (docs/mechanisms.md): Kostka (2019), about 80% approval, higher
among the wealthier, more educated and urban. The section is optional: without it nothing is
stored and nothing measured.
"""

from __future__ import annotations

from pydantic import Field

from .rules import FieldPath, Issue, Refs
from .types import Identifier, Probability, Strict


class Approval(Strict):
    """Approval of the system, per person (engine/stages/approval.py)."""

    initial: Probability = Field(
        default=0.8,
        description="Starting approval of groups not named in `by_group` (Kostka 2019: about "
        "80% approve).",
    )
    by_group: dict[Identifier, Probability] = Field(
        default_factory=dict,
        description="Starting approval by population group (the advantaged approve most).",
    )
    learning_rate: Probability = Field(
        default=0.01,
        description="Share of the gap to one's starting level that approval recovers each day.",
    )
    sanction: Probability = Field(
        default=0.05, description="Share of approval lost on a day one is sanctioned."
    )
    wrongful: Probability = Field(
        default=0.2,
        description="Further share lost on a day one is sanctioned while a false record counts.",
    )
    reward: Probability = Field(
        default=0.05,
        description="Share of the gap to full approval gained on a day one rises a tier or is "
        "paid for a report.",
    )
    contact_sanction: Probability = Field(
        default=0.01, description="Share of approval lost per contact sanctioned that day."
    )
    contact_reward: Probability = Field(
        default=0.005,
        description="Share of the gap to full approval gained per contact rewarded that day.",
    )

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        return refs.groups.check_keys(path + ("by_group",), self.by_group)
