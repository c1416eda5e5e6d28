"""A tqdm progress bar as a progress(done, total) callback for services."""

from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(description: str, stream):
    """Yield ``update(done, total)``, drawing a bar on `stream` (items done of total).

    The bar starts at the first report, when the total is known (no empty "0item" bar), is
    redrawn at most every 0.1 s, and its finished state is printed once, when it closes."""
    # A command's self.stderr is Django's OutputWrapper, which ends every write with a
    # newline: each redraw of the bar became a line of its own. tqdm gets the raw stream.
    stream = getattr(stream, "_out", stream)
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                desc=description,
                total=total,
                unit="item",
                file=stream,
                leave=True,
                dynamic_ncols=True,
            )
        if bar.total != total:
            bar.total = total
        if done >= total:
            bar.n = done  # close() draws the finished bar; drawing it here too doubled it
        else:
            bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
