from django.db import transaction

from crm.models import Associate, Store


@transaction.atomic
def store_get_or_create(*, code: str) -> Store:
    """The store a POS names. A till in a store not yet configured here must still be able to sign customers
    up, so an unknown store id is recorded (and can be named in the admin later) rather than rejected."""
    store, _ = Store.objects.get_or_create(code=code.strip())
    return store


@transaction.atomic
def associate_get_or_create(*, store: Store, code: str) -> Associate:
    associate, _ = Associate.objects.get_or_create(store=store, code=code.strip())
    return associate
