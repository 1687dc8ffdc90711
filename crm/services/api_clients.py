import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.api_key_cache import api_client_cache
from crm.error_codes import CrmErrorCode
from crm.models import ApiClient, Store

KEY_PREFIX = "rk_"


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _api_clients_changed() -> None:
    """Forget the clients this process authenticated: now (the rest of this transaction sees the change) and at
    commit (a copy another thread read meanwhile must not outlive it). Other processes within API_KEY_CACHE_SECONDS."""
    api_client_cache.clear()
    transaction.on_commit(api_client_cache.clear)


def _validated_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    unknown = [scope for scope in cleaned if scope not in ApiClient.Scope.values]
    if unknown:
        raise ApplicationError(
            _("Unknown scopes: %(scopes)s. Known scopes: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(ApiClient.Scope.values)},
            code=CrmErrorCode.INVALID_FIELD,
            extra={"field": "scopes"},
        )
    return cleaned


def _stores_named(store_codes: Iterable[str]) -> list[Store]:
    """The stores with these codes (exactly, as tills send them). Unlike a till's store, recorded on first sight, a
    code unknown here is refused: a mistyped code would restrict the key to a store no till names, locking it out
    of its own."""
    codes = {code.strip() for code in store_codes if code.strip()}
    stores = list(Store.objects.filter(code__in=codes).order_by("code"))
    unknown = sorted(codes - {store.code for store in stores})
    if unknown:
        raise ApplicationError(
            _("Unknown stores: %(stores)s. Add them under Stores in the admin first.") % {"stores": ", ".join(unknown)},
            code=CrmErrorCode.INVALID_FIELD,
            extra={"field": "stores"},
        )
    return stores


@transaction.atomic
def api_client_create(*, name: str, scopes: Iterable[str], store_codes: Iterable[str] = ()) -> tuple[ApiClient, str]:
    """Create an API client and return it with its key. The key is not stored and cannot be shown again. With
    `store_codes` the key may act only for those stores (see api_client_stores_set); unknown codes are refused."""
    if ApiClient.objects.filter(name=name).exists():
        raise ApplicationError(
            _("An API client named %(name)s already exists.") % {"name": name},
            code=CrmErrorCode.INVALID_FIELD,
            extra={"field": "name"},
        )
    stores = _stores_named(store_codes)
    key = _new_key()
    client = ApiClient(name=name, scopes=_validated_scopes(scopes), key_prefix=key[:10], key_hash=api_key_hash(key))
    client.full_clean()
    client.save()
    client.allowed_stores.set(stores)
    return client, key


@transaction.atomic
def api_client_rotate_key(*, client: ApiClient) -> str:
    """Give the client a new key; the old one stops working at once."""
    key = _new_key()
    client.key_prefix = key[:10]
    client.key_hash = api_key_hash(key)
    client.save(update_fields=["key_prefix", "key_hash", "updated_at"])
    _api_clients_changed()
    return key


@transaction.atomic
def api_client_escher_secret_rotate(*, client: ApiClient) -> str:
    """Give the client a new Escher signing secret and return it (it is shown once). From the next request on, the
    Antavo adapter takes only requests signed with it; a previous secret stops working at once."""
    secret = secrets.token_urlsafe(32)
    client.escher_secret = secret
    client.save(update_fields=["escher_secret", "updated_at"])
    _api_clients_changed()
    return secret


@transaction.atomic
def api_client_escher_secret_clear(*, client: ApiClient) -> bool:
    """The client stops signing: its requests are taken unsigned where COMPAT_ANTAVO_ALLOW_UNSIGNED allows it.
    Returns False, changing nothing, when it had no secret."""
    if not client.escher_secret:
        return False
    client.escher_secret = ""
    client.save(update_fields=["escher_secret", "updated_at"])
    _api_clients_changed()
    return True


@transaction.atomic
def api_client_set_scopes(*, client: ApiClient, scopes: Iterable[str]) -> ApiClient:
    client.scopes = _validated_scopes(scopes)
    client.save(update_fields=["scopes", "updated_at"])
    _api_clients_changed()
    return client


@transaction.atomic
def api_client_stores_set(*, client: ApiClient, store_codes: Iterable[str]) -> bool:
    """Restrict the client to exactly these stores; none: it may act for any store. From its next request on, the
    key may name only those stores and must name one on every write that records a store (STORE_NOT_ALLOWED,
    STORE_REQUIRED). Returns False, changing nothing, when they were its stores already. Raises INVALID_FIELD
    (field `stores`), changing nothing, for a code no store has."""
    stores = _stores_named(store_codes)
    if {store.pk for store in stores} == set(client.allowed_stores.values_list("pk", flat=True)):
        return False
    client.allowed_stores.set(stores)
    client.save(update_fields=["updated_at"])
    _api_clients_changed()
    return True


@transaction.atomic
def api_client_deactivate(*, client: ApiClient) -> bool:
    """Lock the client out: its key is refused (401) from the next request on. Scopes, stores and key stay, for
    api_client_reactivate. Returns False, changing nothing, when the client was inactive already."""
    return _api_client_set_active(client=client, is_active=False)


@transaction.atomic
def api_client_reactivate(*, client: ApiClient) -> bool:
    """Let the client in again with the key it had. Returns False, changing nothing, when it was active already."""
    return _api_client_set_active(client=client, is_active=True)


def _api_client_set_active(*, client: ApiClient, is_active: bool) -> bool:
    now = timezone.now()
    # Compare-and-set: of two people flipping the same client at once, exactly one changes it.
    changed = ApiClient.objects.filter(pk=client.pk, is_active=not is_active).update(
        is_active=is_active, updated_at=now
    )
    if changed:
        client.is_active, client.updated_at = is_active, now
        _api_clients_changed()
    return bool(changed)
