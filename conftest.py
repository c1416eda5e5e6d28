"""Repository-wide pytest set-up: the test run makes the folders it writes to (var/ for the
SQLite test database, the filesystem broker's folders for worker tests), since importing the
settings never does."""


def pytest_configure(config) -> None:
    from config.local_setup import local_folders_ensure

    local_folders_ensure()
