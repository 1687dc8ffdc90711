from django.db import transaction

from crm.models import Associate, Store


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
