"""The management commands' progress bar: no empty "0item" bar, the finished bar once."""

import io
import re

from django.core.management.base import OutputWrapper

from evaluation.management.commands._progress import progress_bar


def frames(text: str) -> list[str]:
    """What each redraw showed before the bar itself: e.g. "tracks: 100%"."""
    return [frame.split("|")[0] for frame in text.split("\r") if frame.strip()]


def test_a_bar_starts_at_its_total_and_prints_the_finished_state_once():
    stream = io.StringIO()
    with progress_bar("tracks", OutputWrapper(stream)) as update:  # a command's self.stderr
        for done in range(1, 4):
            update(done, 3)
    shown = frames(stream.getvalue())  # redraws in between depend on the clock (0.1 s)
    assert (shown[0], shown[-1]) == ("tracks:   0%", "tracks: 100%")
    assert shown.count("tracks: 100%") == 1
    assert stream.getvalue().count("3/3") == 1
    assert stream.getvalue().count("\n") == 1  # redraws stay on one line; the end closes it
    # The empty bar "0item [00:00, ?item/s]"; a rate such as "111353.20item/s" is fine.
    assert not re.search(r"(?<![\d.])0item", stream.getvalue())


def test_a_stage_that_never_reports_prints_nothing():
    stream = io.StringIO()
    with progress_bar("tracks", stream):
        pass
    assert stream.getvalue() == ""
