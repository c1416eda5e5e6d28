import pytest

from generation.backends import get_harmonizer
from generation.dataset import load_dataset


@pytest.fixture(scope="session")
def dataset():
    return load_dataset()


@pytest.fixture(scope="session")
def markov():
    return get_harmonizer("markov")


@pytest.fixture(scope="session")
def bwv269(dataset):
    return dataset.chorales["bach/bwv269"]
