from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address: the socket's, or, behind NUM_PROXIES trusted proxies that each append the address they
    saw to X-Forwarded-For, the one the outermost of them saw (earlier entries are whatever the client wrote).
    DRF's throttles read NUM_PROXIES the same way; the API's wrong-key counter and the admin lockout use this."""
    forwarded_for = request.headers.get("X-Forwarded-For")
    if not settings.NUM_PROXIES or not forwarded_for:
        return request.META.get("REMOTE_ADDR")
    addresses = forwarded_for.split(",")
    return addresses[-min(settings.NUM_PROXIES, len(addresses))].strip()
