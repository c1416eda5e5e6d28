"""A tqdm progress bar as a progress(done, total) callback for services."""

from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(description: str, stream):
    bar = tqdm(desc=description, unit="item", file=stream, leave=True, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
