from dataclasses import replace

from django.db import transaction

from crm.models import Associate, Store
from crm.services.context import ChangeContext


@transaction.atomic
def store_get_or_create(*, code: str, name: str = "") -> Store:
    """The store a POS names. A till in a store not yet configured here must still be able to sign customers
    up, so an unknown store id is recorded (and can be named in the admin later) rather than rejected.
    `name` is used only when the store is new."""
    store, _ = Store.objects.get_or_create(code=code.strip(), defaults={"name": name.strip()})
    return store


@transaction.atomic
def associate_get_or_create(*, store: Store, code: str, name: str = "") -> Associate:
    """The associate with this POS id in this store, recorded on first sight; `name` is used only when new."""
    associate, _ = Associate.objects.get_or_create(store=store, code=code.strip(), defaults={"name": name.strip()})
    return associate


def change_context_at_store(
    *, context: ChangeContext, store_code: str | None, associate_code: str | None = None
) -> ChangeContext:
    """`context` attributed to the store `store_code` and, within it, the associate `associate_code`, each recorded
    on first sight; `context` itself without a store code. Runs in the caller's transaction: a change that is
    refused then records no store either. Whether the caller may act for the store is the caller's to check first
    (crm.selectors.api_client_store_check)."""
    if not store_code:
        return context
    store = store_get_or_create(code=store_code)
    associate = associate_get_or_create(store=store, code=associate_code) if associate_code else None
    return replace(context, store=store, associate=associate)
