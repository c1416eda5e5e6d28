import numpy as np
import pytest

from generation.backends import _REGISTRY as REGISTRY
from generation.backends import (
    Harmonizer,
    Melody,
    Voices,
    available_systems,
    get_harmonizer,
    register_system,
)


class EchoHarmonizer(Harmonizer):
    """Copies the soprano into every voice: enough to exercise the registry."""

    name = "echo"
    version = "0"

    def harmonize(self, melody: Melody, *, seed: int) -> Voices:
        pitches = np.stack([melody.pitches] * 4)
        return Voices(pitches=pitches, onsets=np.stack([melody.onsets] * 4))


@pytest.fixture
def registry_snapshot():
    saved = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(saved)
    get_harmonizer.cache_clear()


def test_the_neural_model_and_the_markov_baseline_are_available():
    assert available_systems() == ["builtin", "markov"]


def test_the_same_instance_serves_every_call(markov):
    assert get_harmonizer("markov") is markov


def test_an_unknown_system_is_refused():
    with pytest.raises(ValueError, match="unknown or unavailable system 'gpt'"):
        get_harmonizer("gpt")


def test_a_backend_without_its_checkpoint_is_not_available(registry_snapshot):
    register_system("builtin", EchoHarmonizer, is_available=lambda: False)
    assert available_systems() == ["markov"]
    with pytest.raises(ValueError, match="unknown or unavailable system 'builtin'"):
        get_harmonizer("builtin")


def test_a_registered_backend_is_served(registry_snapshot):
    register_system("echo", EchoHarmonizer)
    assert available_systems() == ["builtin", "echo", "markov"]
    assert isinstance(get_harmonizer("echo"), EchoHarmonizer)


def test_validation_refuses_a_changed_soprano(bwv269):
    melody = Melody.from_chorale(bwv269)
    pitches = bwv269.pitches.copy()
    pitches[0, 10] += 1
    with pytest.raises(ValueError, match="the soprano was changed"):
        Voices(pitches=pitches, onsets=bwv269.onsets).validate_against(melody)


def test_validation_refuses_a_voice_out_of_range(bwv269):
    melody = Melody.from_chorale(bwv269)
    echo = EchoHarmonizer().harmonize(melody, seed=0)
    with pytest.raises(ValueError, match="tenor leaves its range 48-69"):
        echo.validate_against(melody)


def test_validation_accepts_bachs_own_setting(bwv269):
    Voices(pitches=bwv269.pitches, onsets=bwv269.onsets).validate_against(
        Melody.from_chorale(bwv269)
    )
