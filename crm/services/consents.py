from django.utils import timezone

from crm.models import CONSENT_NAMES, ConsentChange, Consents, Customer
from crm.services.context import ChangeContext


def consents_set(*, customer: Customer, changes: dict[str, bool | None], context: ChangeContext) -> Consents:
    """Merge consents key by key: names not in `changes` keep their value. Every real change is recorded in
    ConsentChange with who, when and where. Runs inside the caller's transaction."""
    unknown = set(changes) - set(CONSENT_NAMES)
    if unknown:
        raise ValueError(f"Unknown consents: {sorted(unknown)}")
    consents, _ = Consents.objects.get_or_create(customer=customer)
    now = timezone.now()
    history = []
    for name, new_value in changes.items():
        previous_value = getattr(consents, name)
        if previous_value == new_value:
            continue
        setattr(consents, name, new_value)
        history.append(
            ConsentChange(
                customer=customer,
                consent=name,
                previous_value=previous_value,
                new_value=new_value,
                changed_at=now,
                channel=context.channel,
                store=context.store,
                associate=context.associate,
                api_client=context.api_client,
                user=context.user,
            )
        )
    if history:
        consents.full_clean(exclude=["customer"])
        consents.save()
        ConsentChange.objects.bulk_create(history)
    customer.consents = consents
    return consents
