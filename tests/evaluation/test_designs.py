"""The study designs of issue 12 through the real services and database: set-up validation
and freezing, single-track and pool slots, scheduling balance, answers (aspects, familiarity,
hit potential, ratings, "what is weaker?", human-or-AI, pool rankings) with their listening
evidence, and the export's columns 41-82 per design."""

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from evaluation.exports import responses_csv
from evaluation.models import (
    ASPECTS,
    AuditEntry,
    ListeningEvidence,
    Pair,
    Response,
    ResponseCandidate,
    Study,
    Trial,
    TrialCandidate,
)
from evaluation.selectors.designs import interleaved_order, pool_plan
from evaluation.services import ServiceError
from evaluation.services.listening_evidence import response_record_heard, stimulus_fetch_record
from evaluation.services.panelists import panelist_join
from evaluation.services.responses import Answer, response_record
from evaluation.services.scheduling import trial_mark_served, trial_next
from evaluation.services.studies import study_design_set
from evaluation.stats.responses import RESPONSE_COLUMNS

pytestmark = pytest.mark.django_db


def join(invite):
    return panelist_join(invite=invite, expertise="professional", plays_instrument=True)


def serve(panelist, now):
    trial = trial_next(panelist=panelist, now=now)
    if trial is not None:
        trial_mark_served(trial=trial, now=now)
        trial.refresh_from_db()
    return trial


def rows_of(study) -> list[dict]:
    return list(csv.DictReader(io.StringIO(responses_csv(study))))


# --- set-up ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, field, words",
    [
        ({"aspects": {"tempo": "rating"}}, "aspects", "unknown aspect(s) 'tempo'"),
        ({"aspects": {"melody": "stars"}}, "aspects", "'preference' or 'rating'"),
        ({"aspects": ["melody"]}, "aspects", "must be an object"),
        (
            {"design": "single", "aspects": {"lyrics": "preference"}},
            "aspects",
            "a preference (A or B?) needs two tracks",
        ),
        ({"design": "pool", "aspects": {"melody": "rating"}}, "aspects", "asks no aspects"),
        ({"ask_weaker": True}, "ask_weaker", "choose some first"),
        ({"pool_size": 11}, "pool_size", "3 to 10 candidates"),
        ({"pool_rank_top3": True}, "pool_rank_top3", "needs the pool design"),
        ({"design": "single", "ask_rating": True}, "ask_rating", "always asks it"),
        ({"design": "pool", "ask_hit": True}, "ask_hit", "playlist/release"),
        ({"design": "single", "catch_rate": 0.2}, "catch_rate", "catch trials are A/B"),
    ],
)
def test_an_inconsistent_design_is_refused_with_the_field_and_reason(settings, field, words):
    study = Study(slug="x", title="x", **settings)
    errors = study.design_errors()
    assert field in errors and words in errors[field], errors


def test_a_consistent_design_has_no_errors():
    study = Study(
        slug="x",
        title="x",
        design="ab",
        aspects={"melody": "preference", "lyrics": "rating"},
        ask_weaker=True,
        ask_familiar=True,
        ask_hit=True,
        ask_rating=True,
    )
    assert study.design_errors() == {}
    assert study.aspect_names() == ["melody", "lyrics"]
    assert study.aspect_names("rating") == ["lyrics"]


def test_the_design_is_part_of_the_protocol_hash_and_a_default_study_keeps_its_old_hash():
    import hashlib
    import json

    study = Study(slug="x", title="x")
    old_fields = [f for f in Study.PROTOCOL_FIELDS if f not in Study.DESIGN_FIELDS]
    old = {field: getattr(study, field) for field in old_fields}
    old_hash = hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
    assert study.config_hash() == old_hash
    study.aspects = {"emotion": "rating"}
    assert study.config_hash() != old_hash
    assert study.protocol()["aspects"] == {"emotion": "rating"}


def test_study_design_set_validates_audits_and_is_frozen_once_open(prepared_study, db):
    draft = Study.objects.create(slug="draft", title="draft")
    with pytest.raises(ServiceError) as refused:
        study_design_set(study=draft, design="single", aspects={"melody": "preference"})
    assert refused.value.code == "invalid_design" and "aspects:" in refused.value.message
    draft.refresh_from_db()
    assert (draft.design, draft.aspects) == ("ab", {})

    study_design_set(study=draft, design="pool", pool_size=5, pool_rank_top3=True)
    draft.refresh_from_db()
    assert (draft.design, draft.pool_size, draft.pool_rank_top3) == ("pool", 5, True)
    entry = draft.audit_entries.filter(action=AuditEntry.Action.EDIT).latest("pk")
    assert entry.detail["changed"] == ["design", "pool_rank_top3", "pool_size"]

    with pytest.raises(ServiceError) as unknown:
        study_design_set(study=draft, seed=3)
    assert "not a design setting: seed" in unknown.value.message

    with pytest.raises(ServiceError) as frozen:
        study_design_set(study=prepared_study, ask_familiar=True)
    assert frozen.value.code == "study_frozen" and frozen.value.status == 409
    prepared_study.refresh_from_db()
    assert prepared_study.ask_familiar is False


def test_a_frozen_design_field_cannot_change_through_the_model_clean(prepared_study):
    from django.core.exceptions import ValidationError

    prepared_study.design = "single"
    with pytest.raises(ValidationError, match="changed: design"):
        prepared_study.clean()


# --- pool plan (pure decisions) -----------------------------------------------------------


def test_interleaved_order_alternates_kinds_in_proportion():
    stimuli = [(1, "human"), (2, "human"), (3, "ai"), (4, "ai")]
    order = interleaved_order(stimuli, seed=3)
    kinds = [dict(stimuli)[pk] for pk in order]
    assert sorted(order) == [1, 2, 3, 4]
    assert kinds in (["ai", "human", "ai", "human"], ["human", "ai", "human", "ai"])


def test_pool_plan_balances_candidates_mix_and_screen_positions():
    stimuli = [(1, "human"), (2, "human"), (3, "ai"), (4, "ai"), (5, "ai"), (6, "human")]
    plan = pool_plan(stimuli, pool_size=3, rounds=12, seed=5)
    shown = Counter(pk for trial in plan for pk in trial)
    assert set(shown.values()) == {6}  # 12 pools × 3 / 6 stimuli: each shown equally often
    kinds = dict(stimuli)
    ai_per_pool = [sum(kinds[pk] == "ai" for pk in trial) for trial in plan]
    assert set(ai_per_pool) <= {1, 2}  # within one of the prompt's share (1.5 of 3)
    assert sum(ai_per_pool) == 18
    positions = Counter((pk, n) for trial in plan for n, pk in enumerate(trial))
    for pk in kinds:  # every candidate visits every screen position about equally often
        visits = [positions[(pk, n)] for n in range(3)]
        assert min(visits) >= 1 and max(visits) - min(visits) <= 1, (pk, visits)
    ai_at = Counter(n for trial in plan for n, pk in enumerate(trial) if kinds[pk] == "ai")
    assert max(ai_at.values()) - min(ai_at.values()) <= 1, ai_at  # AI tracks on every position
    assert all(len(set(trial)) == 3 for trial in plan)


@pytest.mark.parametrize("m, n, rounds", [(4, 3, 8), (3, 3, 6), (10, 10, 10), (7, 4, 14)])
def test_pool_plan_screen_positions_stay_balanced_for_other_sizes(m, n, rounds):
    stimuli = [(pk, "ai" if pk % 2 else "human") for pk in range(1, m + 1)]
    plan = pool_plan(stimuli, pool_size=n, rounds=rounds, seed=2)
    kinds = dict(stimuli)
    for position in range(n):
        ai = sum(kinds[trial[position]] == "ai" for trial in plan)
        assert abs(ai - rounds * sum(k == "ai" for k in kinds.values()) / m) <= 1.5
    counts = Counter((pk, position) for trial in plan for position, pk in enumerate(trial))
    for pk in kinds:
        visits = [counts[(pk, position)] for position in range(n)]
        assert max(visits) - min(visits) <= 1, (pk, visits)


def test_pool_plan_refuses_a_prompt_with_too_few_tracks():
    with pytest.raises(ValueError, match="a pool of 5 needs 5 prepared tracks"):
        pool_plan([(1, "ai"), (2, "human")], pool_size=5, rounds=2, seed=0)


# --- single-track design ------------------------------------------------------------------


SINGLE = {"design": "single", "aspects": {"melody": "rating", "lyrics": "rating"},
          "ask_weaker": True, "ask_familiar": True, "ask_hit": True}  # fmt: skip


def single_answer(**overrides):
    values = {
        "choice": "",
        "listen_a_s": 2.0,
        "listen_b_s": 0.0,
        "rating_a": 4,
        "guess_kind": "ai",
        "guess_confidence": 70,
        "familiar": "no",
        "playlist_a": True,
        "release_a": False,
        "aspects": {"melody": {"a": 5}, "lyrics": {"a": 2}},
        "weaker_a": ("lyrics",),
    }
    return Answer(**{**values, **overrides})


def test_single_design_has_one_pair_per_stimulus_and_k_unswapped_slots(design_study):
    study, _ = design_study(**SINGLE)
    pairs = Pair.objects.filter(study=study)
    assert pairs.count() == 12 and set(pairs.values_list("kind", flat=True)) == {"single"}
    assert all(pair.first_id == pair.second_id for pair in pairs)
    assert Trial.objects.filter(pair__study=study).count() == 12 * 4
    assert not Trial.objects.filter(pair__study=study, swapped=True).exists()


def test_single_scheduling_never_repeats_a_prompt_and_balances_human_and_ai(design_study):
    study, invite = design_study(**SINGLE)
    Study.objects.filter(pk=study.pk).update(trials_per_panelist=2)
    invite.study.refresh_from_db()
    now = timezone.now()
    for _ in range(6):
        panelist = join(invite)
        kinds, prompts = [], []
        while (trial := serve(panelist, now)) is not None:
            kinds.append(trial.stimulus_at("a").track.system.kind)
            prompts.append(trial.prompt_id)
            now += timedelta(seconds=5)
            response_record(
                panelist=panelist, trial_token=trial.token, answer=single_answer(), now=now
            )
        assert len(prompts) == len(set(prompts)) == 2
        assert sorted(kinds) == ["ai", "human"]
    # K balance: round 1 before round 2. The last listener may already have heard the prompt
    # of the one slot left in round 1 (a prompt is never heard twice), so it takes a round-2
    # slot instead: at most one stimulus waits, none has more than two answers.
    counts = Counter(Response.objects.values_list("stimulus_a_id", flat=True))
    assert sum(counts.values()) == 12 and len(counts) >= 11 and max(counts.values()) <= 2


def test_a_single_answer_is_stored_with_its_snapshot_and_exported_in_the_a_columns(design_study):
    study, invite = design_study(**SINGLE)
    panelist = join(invite)
    now = timezone.now()
    trial = serve(panelist, now)
    response, created = response_record(
        panelist=panelist,
        trial_token=trial.token,
        answer=single_answer(),
        now=now + timedelta(seconds=5),
    )
    assert created
    stimulus = trial.stimulus_at("a")
    assert (response.trial_kind, response.system_a, response.system_b) == (
        "single",
        stimulus.track.system.name,
        "",
    )
    assert response.stimulus_b is None and response.weaker_a == "lyrics"
    (row,) = rows_of(study)
    assert (
        list(row) == list(RESPONSE_COLUMNS) and RESPONSE_COLUMNS[81] == "score_prompt_adherence_b"
    )
    assert row["trial_kind"] == "single" and row["system_a_kind"] == stimulus.track.system.kind
    assert (row["guess_kind"], row["guess_confidence"], row["rating_a"]) == ("ai", "70", "4")
    assert (row["familiar"], row["playlist_a"], row["release_a"]) == ("no", "1", "0")
    assert (row["score_melody_a"], row["score_lyrics_a"], row["weaker_a"]) == ("5", "2", "lyrics")
    for column in ("system_b", "choice", "preferred_system", "ai_side", "guess_ai", "rating_b",
                   "playlist_b", "score_melody_b", "aspect_melody", "pool_size", "pick_rank"):  # fmt: skip
        assert row[column] == "", column
    again, created = response_record(
        panelist=panelist,
        trial_token=trial.token,
        answer=single_answer(),
        now=now + timedelta(seconds=6),
    )
    assert (again.pk, created) == (response.pk, False)


def refusal(panelist, trial, answer: Answer, now) -> ServiceError:
    """What response_record refuses `answer` with (sent at `now` for `trial`)."""
    with pytest.raises(ServiceError) as refused:
        response_record(panelist=panelist, trial_token=trial.token, answer=answer, now=now)
    return refused.value


@pytest.mark.parametrize(
    "overrides, code, words",
    [
        ({"guess_confidence": 40}, "invalid_confidence", "50 to 100"),
        ({"guess_kind": "a"}, "invalid_guess", "human or ai"),
        ({"rating_a": 6}, "invalid_rating", "1 to 5"),
        ({"rating_a": 2}, "invalid_weaker", "only of a track you liked"),
        ({"weaker_a": ("tempo",)}, "invalid_weaker", "choose among this study's aspects"),
        ({"familiar": "maybe"}, "invalid_familiar", "no, sounds_familiar or knows_it"),
        ({"playlist_a": None}, "invalid_hit", "playlist_a: say yes or no"),
        ({"release_b": True}, "invalid_hit", "release_b is not asked"),
        ({"aspects": {"melody": {"a": 5}}}, "invalid_aspects", "aspect lyrics: missing"),
        (
            {"aspects": {"melody": {"a": 5, "b": 3}, "lyrics": {"a": 2}}},
            "invalid_aspects",
            "a rating 1 to 5 per track",
        ),  # fmt: skip
        ({"choice": "a"}, "invalid_choice", "no A/B questions"),
        ({"listen_a_s": 0.2}, "too_short_listening", "for at least 1 s"),
        ({"listen_pool_s": (2.0,)}, "invalid_ranking", "no ranking"),
        ({"ranking": (1,)}, "invalid_ranking", "no ranking"),
    ],
)
def test_a_bad_single_answer_is_refused_and_nothing_is_stored(design_study, overrides, code, words):
    study, invite = design_study(**SINGLE)
    panelist = join(invite)
    now = timezone.now()
    trial = serve(panelist, now)
    refused = refusal(panelist, trial, single_answer(**overrides), now + timedelta(seconds=5))
    assert refused.code == code and words in refused.message, refused.message
    assert not Response.objects.exists()


def event(t_s, kind, side, pos):
    return {"t": t_s * 1000, "type": kind, "side": side, "pos": pos}


def fetch(panelist, trial, sides, at):
    for side in sides:
        size = trial.stimulus_at(side).size_bytes
        stimulus_fetch_record(
            trial=trial, panelist=panelist, side=side, first_byte=0, last_byte=size - 1, at=at
        )


def test_a_single_answer_from_the_page_needs_its_audio_fetched_and_heard(design_study):
    study, invite = design_study(**SINGLE)
    panelist = join(invite)
    served = timezone.now() - timedelta(seconds=30)
    trial = serve(panelist, served)
    loop = trial.stimulus_at("a").duration_s
    log = {"loop_s": loop, "events": [event(2, "play", "a", 0.0), event(4, "submit", "a", 2.0)]}

    def send(listening, answer=None):
        return response_record_heard(
            panelist=panelist,
            trial_token=trial.token,
            answer=answer or single_answer(listen_a_s=99.0),
            listening=listening,
            now=served + timedelta(seconds=20),
        )

    with pytest.raises(ServiceError) as unfetched:
        send(log)
    assert unfetched.value.code == "audio_not_fetched" and "the track" in unfetched.value.message
    fetch(panelist, trial, "a", served + timedelta(seconds=1))
    with pytest.raises(ServiceError) as bside:
        send({**log, "events": [event(2, "play", "b", 0.0), event(4, "submit", "b", 2.0)]})
    assert bside.value.code == "invalid_listening_log" and "side must be 'a'" in bside.value.message
    with pytest.raises(ServiceError) as short:
        send({**log, "events": [event(2, "play", "a", 0.0), event(2.5, "submit", "a", 0.5)]})
    assert short.value.code == "too_short_listening"
    assert not Response.objects.exists()

    response, created = send(log)
    assert created and response.listen_a_s == pytest.approx(2.0)  # the log's, not the claim
    evidence = ListeningEvidence.objects.get(response=response)
    assert evidence.heard_a_s == pytest.approx(2.0) and evidence.heard_b_s == 0.0
    (row,) = rows_of(study)
    assert row["heard_a_s"] == "2.0" and row["heard_b_s"] == "" and row["heard_overlap_s"] == ""


# --- A/B design with the new questions ----------------------------------------------------


AB = {"aspects": {"structure": "preference", "emotion": "rating"}, "ask_rating": True,
      "ask_weaker": True, "ask_familiar": True, "ask_hit": True}  # fmt: skip


def ab_answer(**overrides):
    values = {
        "choice": "a",
        "listen_a_s": 2.0,
        "listen_b_s": 2.0,
        "liked_a": True,
        "liked_b": False,
        "guess_ai": "b",
        "familiar": "sounds_familiar",
        "playlist_a": True,
        "playlist_b": False,
        "release_a": True,
        "release_b": False,
        "rating_a": 5,
        "rating_b": 2,
        "aspects": {"structure": {"choice": "a"}, "emotion": {"a": 4, "b": 3}},
        "weaker_a": ("emotion", "structure"),
    }
    return Answer(**{**values, **overrides})


def test_an_ab_answer_with_every_question_is_stored_and_exported(design_study):
    study, invite = design_study("ab", slug="ab-all", **AB)
    panelist = join(invite)
    now = timezone.now()
    trial = serve(panelist, now)
    response, _ = response_record(
        panelist=panelist,
        trial_token=trial.token,
        answer=ab_answer(),
        now=now + timedelta(seconds=10),
    )
    assert response.trial_kind == "ab" and response.weaker_a == "structure;emotion"
    (row,) = rows_of(study)
    assert row["trial_kind"] == "ab" and row["choice"] == "a" and row["system_b"]
    assert (row["aspect_structure"], row["score_emotion_a"], row["score_emotion_b"]) == (
        "a",
        "4",
        "3",
    )
    assert (row["rating_a"], row["rating_b"], row["familiar"]) == ("5", "2", "sounds_familiar")
    assert (row["playlist_a"], row["playlist_b"], row["release_a"], row["release_b"]) == (
        "1", "0", "1", "0",
    )  # fmt: skip
    assert (row["weaker_a"], row["weaker_b"], row["aspect_melody"]) == ("structure;emotion", "", "")


@pytest.mark.parametrize(
    "overrides, code, words",
    [
        (
            {"aspects": {"structure": {"choice": "c"}, "emotion": {"a": 4, "b": 3}}},
            "invalid_aspects",
            "which is better",
        ),  # fmt: skip
        (
            {"aspects": {"structure": {"choice": "a"}, "emotion": {"a": 4}}},
            "invalid_aspects",
            "a rating 1 to 5 per track",
        ),  # fmt: skip
        ({"weaker_b": ("emotion",)}, "invalid_weaker", "only of a track you liked"),
        ({"rating_b": None}, "invalid_rating", "rating_b"),
        ({"familiar": ""}, "invalid_familiar", "say whether you know this piece"),
        ({"guess_kind": "ai"}, "invalid_choice", "no ranking or human/AI guess"),
        ({"ranking": (1,)}, "invalid_choice", "no ranking"),
    ],
)
def test_a_bad_ab_answer_is_refused_and_nothing_is_stored(design_study, overrides, code, words):
    study, invite = design_study("ab", slug="ab-bad", **AB)
    panelist = join(invite)
    now = timezone.now()
    trial = serve(panelist, now)
    refused = refusal(panelist, trial, ab_answer(**overrides), now + timedelta(seconds=10))
    assert refused.code == code and words in refused.message, refused.message
    assert not Response.objects.exists()


def test_questions_a_study_does_not_ask_are_refused(prepared_study, make_panelist):
    panelist = make_panelist()
    now = timezone.now()
    trial = serve(panelist, now)
    for overrides, code in (
        ({"familiar": "no"}, "invalid_familiar"),
        ({"playlist_a": True}, "invalid_hit"),
        ({"rating_a": 3}, "invalid_rating"),
        ({"aspects": {"melody": {"choice": "a"}}}, "invalid_aspects"),
    ):
        answer = Answer(choice="a", listen_a_s=3.0, listen_b_s=3.0, liked_a=True, liked_b=True,
                        guess_ai="a", **overrides)  # fmt: skip
        refused = refusal(panelist, trial, answer, now + timedelta(seconds=10))
        assert refused.code == code
    assert not Response.objects.exists()


# --- pool design --------------------------------------------------------------------------


def test_pool_slots_get_balanced_candidates_of_one_prompt(design_study):
    study, _ = design_study("pool", pool_size=3, pool_rank_top3=True)
    pairs = Pair.objects.filter(study=study)
    assert pairs.count() == 3 and set(pairs.values_list("kind", flat=True)) == {"pool"}
    for trial in Trial.objects.filter(pair__study=study):
        candidates = list(trial.candidates.select_related("stimulus__track"))
        assert [c.position for c in candidates] == [1, 2, 3]
        assert {c.stimulus.track.prompt_id for c in candidates} == {trial.prompt_id}
        assert trial.sides() == ("a", "b", "c")
    shown = Counter(
        TrialCandidate.objects.filter(trial__pair__study=study).values_list(
            "stimulus_id", flat=True
        )
    )
    assert len(shown) == 12 and set(shown.values()) == {3}  # 3 pools × 4 slots × 3 / 12


def test_a_pool_larger_than_a_prompts_tracks_cannot_open(design_study):
    with pytest.raises(ServiceError) as refused:
        design_study("pool", pool_size=5)
    assert refused.value.code == "invalid_design"
    assert "a pool of 5 needs 5 prepared tracks per prompt; too few for: p0, p1, p2" in (
        refused.value.message
    )


def test_a_pool_answer_stores_every_candidate_and_exports_one_row_each(design_study):
    study, invite = design_study("pool", pool_size=3, pool_rank_top3=True, ask_familiar=True)
    panelist = join(invite)
    served = timezone.now() - timedelta(seconds=60)
    trial = serve(panelist, served)
    fetch(panelist, trial, "abc", served + timedelta(seconds=1))
    loop = min(trial.stimulus_at(side).duration_s for side in "abc")
    events = [
        event(2, "play", "a", 0.0),
        event(3.5, "switch", "b", 1.5),
        event(5, "switch", "c", 3.0 % loop),
        event(6.5, "switch", "a", (4.5) % loop),
        event(8, "submit", "a", (6.0) % loop),
    ]
    answer = Answer(choice="", listen_a_s=0, listen_b_s=0, familiar="knows_it", ranking=(2, 3))

    def send(events, answer=answer):
        return response_record_heard(
            panelist=panelist,
            trial_token=trial.token,
            answer=answer,
            listening={"loop_s": loop, "events": events},
            now=served + timedelta(seconds=30),
        )

    with pytest.raises(ServiceError) as short:
        send(events[:3] + [event(5.2, "submit", "c", 3.2 % loop)])
    assert short.value.code == "too_short_listening" and "candidate 3" in short.value.message
    with pytest.raises(ServiceError) as bad:
        send(events, Answer(choice="", listen_a_s=0, listen_b_s=0, familiar="no", ranking=(4,)))
    assert bad.value.code == "invalid_ranking" and "positions 1 to 3" in bad.value.message
    assert not Response.objects.exists()

    response, created = send(events)
    assert created and response.trial_kind == "pool" and response.pool_size == 3
    favourite = trial.stimulus_at("b")
    assert response.stimulus_a_id == favourite.pk and response.stimulus_b is None
    candidates = list(ResponseCandidate.objects.filter(response=response))
    assert [(c.position, c.pick_rank) for c in candidates] == [(1, None), (2, 1), (3, 2)]
    assert candidates[1].heard_s == pytest.approx(1.5)
    rows = rows_of(study)
    assert len(rows) == 3 and {row["response_id"] for row in rows} == {str(response.pk)}
    assert [row["pool_position"] for row in rows] == ["1", "2", "3"]
    assert [row["pick_rank"] for row in rows] == ["", "1", "2"]
    assert [row["system_a"] for row in rows] == [c.system for c in candidates]
    assert all(row["familiar"] == "knows_it" and row["pool_size"] == "3" for row in rows)
    assert all(row["trial_kind"] == "pool" and row["system_b"] == "" for row in rows)
    assert all(row["choice"] == "" and row["listen_b_s"] == "" for row in rows)
    again, created = send(events)
    assert (again.pk, created) == (response.pk, False)


def test_a_pool_ranking_beyond_the_favourite_needs_the_top3_setting(design_study):
    study, invite = design_study("pool", pool_size=3)
    panelist = join(invite)
    now = timezone.now()
    trial = serve(panelist, now)
    answer = Answer(choice="", listen_a_s=0, listen_b_s=0, ranking=(1, 2),
                    listen_pool_s=(2.0, 2.0, 2.0))  # fmt: skip
    refused = refusal(panelist, trial, answer, now + timedelta(seconds=10))
    assert refused.code == "invalid_ranking" and "your favourite" in refused.message
    ok = Answer(choice="", listen_a_s=0, listen_b_s=0, ranking=(3,), listen_pool_s=(2.0,) * 3)
    response, _ = response_record(
        panelist=panelist, trial_token=trial.token, answer=ok, now=now + timedelta(seconds=10)
    )
    assert response.stimulus_a_id == trial.stimulus_at("c").pk


def test_the_aspect_catalogue_is_the_contracts():
    from evaluation.stats.aspects import ASPECTS as STATS_ASPECTS

    assert ASPECTS is STATS_ASPECTS  # one catalogue (evaluation.catalogue) for models and stats
    assert ASPECTS == (
        "melody", "lyrics", "vocals", "arrangement", "structure", "emotion", "production",
        "originality", "prompt_adherence",
    )  # fmt: skip
    tail = RESPONSE_COLUMNS[40:82]  # columns 41-82 (later columns belong to other features)
    assert tail[:15] == (
        "trial_kind", "familiar", "playlist_a", "playlist_b", "release_a", "release_b",
        "rating_a", "rating_b", "guess_kind", "guess_confidence", "pool_size", "pool_position",
        "pick_rank", "weaker_a", "weaker_b",
    )  # fmt: skip
    assert tail[15:] == tuple(
        column
        for name in ASPECTS
        for column in (f"aspect_{name}", f"score_{name}_a", f"score_{name}_b")
    )


def test_the_blindness_audit_compares_every_two_tracks_of_a_prompt_in_a_pool(design_study):
    from evaluation.selectors.blindness import study_audit

    study, _ = design_study("pool", pool_size=3)
    report = study_audit(study=study)
    assert report.passed
    assert len(report.pairs) == 3 * 6  # 3 prompts × (4 choose 2) comparisons
    assert {audit.prompt for audit in report.pairs} == {"p0", "p1", "p2"}
    assert report.files_checked == 12


@pytest.mark.parametrize(
    "design, questions, sections",
    [
        (
            "ab",
            {"aspects": {"structure": "preference"}, "ask_familiar": True, "ask_hit": True},
            ("pairs", "aspects", "familiarity", "hit_potential"),
        ),  # fmt: skip
        (
            "single",
            {"aspects": {"lyrics": "rating"}, "ask_familiar": True, "ask_hit": True},
            ("identification", "aspects", "familiarity", "hit_potential"),
        ),  # fmt: skip
        (
            "pool",
            {"pool_size": 3, "pool_rank_top3": True, "ask_familiar": True},
            ("pool", "familiarity"),
        ),  # fmt: skip
    ],
)
def test_every_designs_export_feeds_its_statistics_sections(
    design_study, design, questions, sections
):
    """The chain of the issue's "done when": answers → responses.csv → evaluation.stats."""
    from django.core.management import call_command

    from evaluation.selectors.results import study_results

    study, _ = design_study(design, **questions)
    call_command("simulate_panel", study.slug, "--panelists", "8", "--seed", "1")
    summary = study_results(study, include_simulated=True)
    for section in sections:
        assert summary.get(section), (section, summary.get(section))
    if design == "single":
        identification = summary["identification"]
        assert identification["n"] == Response.objects.filter(trial__pair__study=study).count()
    if design == "pool":
        assert summary["pool"]["n_candidates_shown"] == ResponseCandidate.objects.count()
        assert not summary.get("pairs")


def test_a_single_track_study_prepares_a_prompt_that_has_one_track(
    media_root, tmp_path, stimulus_cache
):
    import soundfile

    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.tracks import tracks_import
    from tests.conftest import DESIGN_RATE, tone, write_manifest

    folder = tmp_path / "lonely"
    folder.mkdir()
    rows = []
    for prompt, systems in (("p0", ("human reference", "model-x")), ("p1", ("model-x",))):
        for system in systems:
            file = f"{prompt}_{system.replace(' ', '_')}.wav"
            frequency = 200 + 50 * len(rows)
            soundfile.write(folder / file, tone(4.0, frequency, rate=DESIGN_RATE), DESIGN_RATE)
            kind = "human" if system.startswith("human") else "ai"
            rows.append({"prompt_id": prompt, "system": system, "kind": kind, "file": file})
    tracks_import(study_slug="lonely", manifest=write_manifest(folder, rows))
    Study.objects.filter(slug="lonely").update(
        excerpt_s=3.0, excerpt_start_s=0.0, sample_rate=DESIGN_RATE, design="single"
    )
    study = Study.objects.get(slug="lonely")
    summary = stimuli_prepare(study=study)
    assert summary["failures"] == [] and summary["pairs"] == 3
    assert Pair.objects.filter(study=study, prompt__external_id="p1").count() == 1
    from evaluation.selectors.blindness import study_audit

    report = study_audit(study=study)
    assert report.passed and len(report.pairs) == 1  # p0's two tracks compared
    assert report.files_checked == 3  # p1's lone track is still measured and hashed
