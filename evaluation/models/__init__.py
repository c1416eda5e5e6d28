from evaluation.models.audit import AuditEntry
from evaluation.models.evidence import ListeningEvidence, StimulusFetch
from evaluation.models.job import Job
from evaluation.models.panel import (
    LEGACY_EXPERTISE,
    Expertise,
    HeadphoneItem,
    InstrumentFamily,
    Invite,
    Panel,
    Panelist,
    PanelMember,
)
from evaluation.models.study import Pair, Prompt, Stimulus, Study, System, Track
from evaluation.models.trial import Choice, GuessAI, Response, Trial

__all__ = [
    "AuditEntry",
    "Choice",
    "Expertise",
    "GuessAI",
    "HeadphoneItem",
    "InstrumentFamily",
    "LEGACY_EXPERTISE",
    "Invite",
    "Job",
    "ListeningEvidence",
    "Pair",
    "Panel",
    "PanelMember",
    "Panelist",
    "Prompt",
    "Response",
    "Stimulus",
    "StimulusFetch",
    "Study",
    "System",
    "Track",
    "Trial",
]
