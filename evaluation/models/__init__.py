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
from evaluation.models.study import ASPECTS, Pair, Prompt, Stimulus, Study, System, Track
from evaluation.models.trial import (
    POOL_SIDES,
    Choice,
    Familiar,
    GuessAI,
    GuessKind,
    Response,
    ResponseCandidate,
    Trial,
    TrialCandidate,
)

__all__ = [
    "ASPECTS",
    "POOL_SIDES",
    "AuditEntry",
    "Choice",
    "Expertise",
    "Familiar",
    "GuessAI",
    "GuessKind",
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
    "ResponseCandidate",
    "Stimulus",
    "StimulusFetch",
    "Study",
    "System",
    "Track",
    "Trial",
    "TrialCandidate",
]
