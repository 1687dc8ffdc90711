import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    """A real HTTP receiver on 127.0.0.1 (a random port), answering 200 unless told otherwise."""
    running = Receiver().start()
    yield running
    running.stop()
