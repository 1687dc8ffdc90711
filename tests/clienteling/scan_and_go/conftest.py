import pytest

from loyalty.selectors.scan_and_go_config import scan_and_go_config_cache_clear


@pytest.fixture(autouse=True)
def fresh_scan_and_go_config():
    """Each test rolls its database back, and may reuse the ids and versions of the previous one (frozen time
    even repeats its timestamps): the process's configuration cache must not carry over."""
    scan_and_go_config_cache_clear()
    yield
    scan_and_go_config_cache_clear()
