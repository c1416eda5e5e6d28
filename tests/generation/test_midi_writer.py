import numpy as np
from music21 import converter, midi

from generation.midi import TICKS_PER_QUARTER, chorale_midi_bytes


def read_events(midi_bytes: bytes):
    midi_file = midi.MidiFile()
    midi_file.readstr(midi_bytes)
    return midi_file


def test_it_writes_a_tempo_track_and_four_named_voice_tracks(bwv269):
    midi_file = read_events(chorale_midi_bytes(bwv269))
    assert midi_file.format == 1
    assert midi_file.ticksPerQuarterNote == TICKS_PER_QUARTER
    assert len(midi_file.tracks) == 5
    names = [
        event.data.decode()
        for track in midi_file.tracks[1:]
        for event in track.events
        if event.type == midi.MetaEvents.SEQUENCE_TRACK_NAME
    ]
    assert names == ["Soprano", "Alto", "Tenor", "Bass"]


def test_the_soprano_notes_come_back_from_the_file(bwv269):
    score = converter.parseData(chorale_midi_bytes(bwv269), format="midi")
    # music21 splits notes at its own barlines on import; stripTies joins them again.
    soprano = score.parts[0].stripTies().flatten().notes
    pitches, onsets = bwv269.soprano
    starts = np.flatnonzero(onsets & (pitches != 0))
    assert [n.pitch.midi for n in soprano] == pitches[starts].tolist()
    assert [float(n.offset) for n in soprano] == (starts / 4).tolist()


def test_fermatas_slow_the_tempo_map_down_and_back_up(bwv269):
    midi_file = read_events(chorale_midi_bytes(bwv269))
    tempos = [
        int.from_bytes(event.data, "big")
        for event in midi_file.tracks[0].events
        if event.type == midi.MetaEvents.SET_TEMPO
    ]
    fermata_starts = np.flatnonzero(
        np.diff(np.concatenate(([0], bwv269.fermatas.astype(int)))) == 1
    )
    assert tempos[:3] == [789_474, 1_381_580, 789_474]
    assert tempos.count(1_381_580) == len(fermata_starts)


def test_the_same_setting_gives_the_same_bytes(bwv269):
    assert chorale_midi_bytes(bwv269) == chorale_midi_bytes(bwv269)
