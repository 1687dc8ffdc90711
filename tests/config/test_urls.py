"""config/urls.py: routes that only wire third-party views."""

import pytest


@pytest.mark.parametrize("url", ["/api/docs/", "/api/schema/"])
def test_the_api_docs_answer_only_get_and_head(admin_client, settings, url):
    # given
    settings.API_DOCS_PUBLIC = False

    # when
    answers = {method: admin_client.generic(method, url).status_code for method in ("GET", "HEAD", "OPTIONS", "POST")}

    # then
    assert answers == {"GET": 200, "HEAD": 200, "OPTIONS": 405, "POST": 405}
