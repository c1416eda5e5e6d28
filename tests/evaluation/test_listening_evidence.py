"""Answers from the trial page are checked against what the server served and against the
page's listening log: never-fetched audio, impossible logs and passages not heard on both
sides are refused with nothing stored; good evidence is stored with the answer."""

from datetime import timedelta

import pytest
import soundfile
from django.utils import timezone

from evaluation.models import ListeningEvidence, Response, StimulusFetch, Study
from evaluation.selectors.listening_evidence import trial_fetched
from evaluation.services import ServiceError
from evaluation.services.listening_evidence import response_record_heard, stimulus_fetch_record
from evaluation.services.responses import Answer
from evaluation.services.scheduling import trial_mark_served, trial_next
from tests.conftest import tone, write_manifest

pytestmark = pytest.mark.django_db

RATE = 8000

# The page's claims; the stored listen times come from the log instead.
ANSWER = Answer(choice="a", listen_a_s=99.0, listen_b_s=99.0, liked_a=True, liked_b=False,
                guess_ai="b")  # fmt: skip


def event(t_s, kind, side, pos):
    return {"t": t_s * 1000, "type": kind, "side": side, "pos": pos}


@pytest.fixture
def long_trial(db, media_root, tmp_path, panel):
    """One trial of 20 s excerpts (min_listen_s 10) served to a panelist at `served`; both
    files were downloaded in full 1 s later. Returns (panelist, trial, served)."""
    from evaluation.services.panelists import invite_create, panelist_join
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_open
    from evaluation.services.tracks import tracks_import

    folder = tmp_path / "long"
    folder.mkdir()
    # A low sample rate keeps the 20 s excerpts quick to prepare.
    for name, frequency in (("human.wav", 220), ("ai.wav", 330)):
        soundfile.write(folder / name, tone(22.0, frequency, rate=RATE), RATE)
    manifest = write_manifest(
        folder,
        [
            {"prompt_id": "p1", "system": "human reference", "kind": "human", "file": "human.wav"},
            {"prompt_id": "p1", "system": "model-x", "kind": "ai", "file": "ai.wav"},
        ],
    )
    tracks_import(study_slug="long", manifest=manifest)
    Study.objects.filter(slug="long").update(
        min_listen_s=10.0, excerpt_s=20.0, ratings_per_pair=1, trials_per_panelist=1,
        excerpt_start_s=0.0, headphone_check=False, sample_rate=RATE,
    )  # fmt: skip
    study = Study.objects.get(slug="long")
    stimuli_prepare(study=study)
    study = study_open(study=study)
    panelist = panelist_join(invite=invite_create(study=study, panel=panel), expertise="none")
    served = timezone.now() - timedelta(seconds=60)
    trial = trial_next(panelist=panelist, now=served)
    trial_mark_served(trial=trial, now=served)
    trial.refresh_from_db()
    return panelist, trial, served


def fetch_both(panelist, trial, at):
    for side in ("a", "b"):
        size = trial.stimulus_at(side).size_bytes
        stimulus_fetch_record(
            trial=trial, panelist=panelist, side=side, first_byte=0, last_byte=size - 1, at=at
        )


def record(panelist, trial, events, *, served, after_s=40.0, loop_s=20.0):
    return response_record_heard(
        panelist=panelist,
        trial_token=trial.token,
        answer=ANSWER,
        listening={"loop_s": loop_s, "events": events},
        now=served + timedelta(seconds=after_s),
    )


SAME_PASSAGE = [
    event(5, "play", "a", 0.0),
    event(15, "seek", "a", 0.0),
    event(15, "switch", "b", 0.0),
    event(25, "submit", "b", 10.0),
]


def refusal(panelist, trial, events, *, served, **options) -> tuple[str, str]:
    with pytest.raises(ServiceError) as refused:
        record(panelist, trial, events, served=served, **options)
    assert (Response.objects.count(), ListeningEvidence.objects.count()) == (0, 0)
    return refused.value.code, refused.value.message


def test_the_same_passage_on_both_sides_is_accepted_and_its_evidence_stored(long_trial):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served + timedelta(seconds=1))
    response, created = record(panelist, trial, SAME_PASSAGE, served=served)
    assert created is True
    assert (response.listen_a_s, response.listen_b_s) == (10.0, 10.0)
    evidence = response.evidence
    assert (evidence.heard_a_s, evidence.heard_b_s, evidence.heard_overlap_s) == (10.0, 10.0, 10.0)
    assert evidence.switches == 1
    assert evidence.audio_fetched == 1.0
    sizes = (trial.stimulus_at("a").size_bytes, trial.stimulus_at("b").size_bytes)
    assert (evidence.fetched_a_bytes, evidence.fetched_b_bytes) == sizes
    assert evidence.log == {"loop_s": 20.0, "events": SAME_PASSAGE}


def test_a_then_b_on_different_passages_is_refused(long_trial):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served + timedelta(seconds=1))
    a_then_b = [
        event(5, "play", "a", 0.0),
        event(15, "switch", "b", 10.0),
        event(25, "submit", "b", 0.0),
    ]
    assert refusal(panelist, trial, a_then_b, served=served) == (
        "too_short_listening",
        "listen to the same passage on both A and B for at least 10 s before answering "
        "(heard on both so far: 0.0 s)",
    )


def test_a_post_with_no_audio_fetched_is_refused(long_trial):
    panelist, trial, served = long_trial
    claims = [event(0.5, "play", "a", 0.0), event(21.5, "submit", "a", 1.0)]
    assert refusal(panelist, trial, claims, served=served, after_s=21.5) == (
        "audio_not_fetched",
        "the audio of A and B was never downloaded for this trial, so it cannot have been "
        "heard; reload the page, listen to both, then answer",
    )


def test_a_side_never_fetched_is_refused(long_trial):
    panelist, trial, served = long_trial
    size = trial.stimulus_at("a").size_bytes
    stimulus_fetch_record(
        trial=trial, panelist=panelist, side="a", first_byte=0, last_byte=size - 1, at=served
    )
    assert refusal(panelist, trial, SAME_PASSAGE, served=served)[0] == "audio_not_fetched"
    assert "the audio of B was never" in refusal(panelist, trial, SAME_PASSAGE, served=served)[1]


def test_audio_fetched_for_an_earlier_holder_of_the_slot_does_not_count(long_trial):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served - timedelta(minutes=30))
    assert refusal(panelist, trial, SAME_PASSAGE, served=served)[0] == "audio_not_fetched"


def test_a_log_without_play_is_refused_as_not_heard(long_trial):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served + timedelta(seconds=1))
    never_played = [event(2, "switch", "b", 0.0), event(22, "submit", "b", 0.0)]
    assert refusal(panelist, trial, never_played, served=served)[0] == "too_short_listening"


@pytest.mark.parametrize(
    ("events", "options", "detail"),
    [
        (
            [event(5, "play", "a", 0.0), event(46.5, "submit", "a", 0.0)],
            {"after_s": 40.0},
            "listening: the events span 41.5 s, but the trial has been open for only 40.0 s",
        ),
        (
            [event(5, "play", "a", 0.0), event(15, "seek", "b", 25.0)],
            {},
            "listening event 2: position 25.0 s is outside the excerpt (0 to 20.0 s)",
        ),
        (
            [event(5, "play", "a", 0.0), event(4, "pause", "a", 0.0)],
            {},
            "listening event 2: time goes backwards (4000.0 ms after 5000.0 ms)",
        ),
        (
            SAME_PASSAGE,
            {"loop_s": 12.0},
            "listening: loop_s 12.0 s does not match the excerpt (20.000 s)",
        ),
        (
            ["play"],
            {},
            "listening event 1: must be an object with t, type, side and pos",
        ),
    ],
)
def test_an_impossible_log_is_refused_with_the_reason(long_trial, events, options, detail):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served + timedelta(seconds=1))
    assert refusal(panelist, trial, events, served=served, **options) == (
        "invalid_listening_log",
        f"the listening log is not possible ({detail}); reload the page and listen again",
    )


def test_more_playback_than_time_since_the_audio_arrived_is_refused(long_trial):
    panelist, trial, served = long_trial
    # Downloaded 12 s before the answer, yet the log plays 20 s.
    fetch_both(panelist, trial, served + timedelta(seconds=28))
    assert refusal(panelist, trial, SAME_PASSAGE, served=served) == (
        "invalid_listening_log",
        "the listening log is not possible (listening: the log plays 20.0 s of audio, but both "
        "files have been here for only 12.0 s); reload the page and listen again",
    )


def test_a_missing_log_is_refused(long_trial):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served + timedelta(seconds=1))
    with pytest.raises(ServiceError) as refused:
        response_record_heard(
            panelist=panelist, trial_token=trial.token, answer=ANSWER, listening=None,
            now=served + timedelta(seconds=40),
        )  # fmt: skip
    assert refused.value.code == "invalid_listening_log"
    assert Response.objects.count() == 0


def test_a_retry_of_a_stored_answer_is_idempotent(long_trial):
    panelist, trial, served = long_trial
    fetch_both(panelist, trial, served + timedelta(seconds=1))
    first, _ = record(panelist, trial, SAME_PASSAGE, served=served)
    again, created = record(panelist, trial, SAME_PASSAGE, served=served, after_s=41.0)
    assert (again.pk, created) == (first.pk, False)
    assert ListeningEvidence.objects.count() == 1


def test_fetched_ranges_are_coalesced_and_counted_once(long_trial):
    panelist, trial, served = long_trial
    at = served + timedelta(seconds=1)
    for first, last in ((0, 99), (100, 199), (50, 120), (300, 399), (350, 360)):
        stimulus_fetch_record(
            trial=trial, panelist=panelist, side="a", first_byte=first, last_byte=last, at=at
        )
    rows = StimulusFetch.objects.filter(trial=trial, side="a").order_by("first_byte")
    assert [(row.first_byte, row.last_byte) for row in rows] == [(0, 199), (300, 399)]
    fetched = trial_fetched(trial=trial, panelist=panelist, now=at)
    assert (fetched["a"].bytes, fetched["a"].first_at) == (300, at)
    assert (fetched["b"].bytes, fetched["b"].first_at) == (0, None)
