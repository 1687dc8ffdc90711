"""core/wsgi.py, as config/wsgi.py's application uses it: a Content-Type charset that is not a text encoding is
ignored like an unknown one, where Django used to raise LookupError while building the request (a 500 from the WSGI
server, before any error handling of ours)."""

import json
from wsgiref.util import setup_testing_defaults

import pytest

from config.wsgi import application
from core.wsgi import is_text_encoding

pytestmark = pytest.mark.django_db


def _call(content_type):
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD="GET",
        PATH_INFO="/api/v1/configuration",
        QUERY_STRING="channel=web",
        CONTENT_TYPE=content_type,
        HTTP_HOST="localhost",
    )
    started = {}
    body = b"".join(application(environ, lambda status, headers, exc_info=None: started.update(status=status)))
    return started["status"], json.loads(body)


@pytest.mark.parametrize("charset", ["bz2_codec", "rot13", "hex"])
def test_a_charset_that_is_not_a_text_encoding_is_ignored_like_an_unknown_one(charset):
    # when
    answered = _call(f"application/json; charset={charset}")

    # then
    assert answered == _call("application/json; charset=no-such-charset")
    assert answered[0] == "401 Unauthorized"


@pytest.mark.parametrize(
    ("name", "is_text"), [("utf-8", True), ("latin-1", True), ("bz2_codec", False), ("no-such-charset", False)]
)
def test_is_text_encoding(name, is_text):
    assert is_text_encoding(name) is is_text
