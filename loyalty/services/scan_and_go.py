"""Writes of the Scan & Go configuration: a program's policy, its store overrides, denial messages and risk rules,
and a member's spot-check bias override.

Every change bumps the policy's `config_version`, which the profile endpoint compares with its in-process copy of
the configuration on each request (loyalty/selectors/scan_and_go_config.py): that is what makes an admin edit apply
on the next scan in every web process, without a shared cache.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from loyalty.models import LoyaltyAccount, Program, ScanAndGoPolicy


def scan_and_go_policy_get_or_create(*, program: Program) -> ScanAndGoPolicy:
    policy, _created = ScanAndGoPolicy.objects.get_or_create(program=program)
    return policy


@transaction.atomic
def scan_and_go_policy_save(*, policy: ScanAndGoPolicy) -> ScanAndGoPolicy:
    """Validate and save the policy's own fields, then bump its version. Raises ValidationError."""
    policy.full_clean()
    policy.save()
    scan_and_go_config_changed(policy=policy)
    return policy


def scan_and_go_config_changed(*, policy: ScanAndGoPolicy) -> None:
    """Record that something of the policy's configuration changed (its inline overrides, messages or rules were
    saved or deleted), so that every process reloads it on its next scan."""
    ScanAndGoPolicy.objects.filter(pk=policy.pk).update(
        config_version=F("config_version") + 1, updated_at=timezone.now()
    )
    policy.refresh_from_db(fields=["config_version", "updated_at"])


@transaction.atomic
def account_spot_check_bias_set(*, account: LoyaltyAccount, bias: int | None) -> LoyaltyAccount:
    """Set (or with None clear) the member's spot-check bias override. Raises ValidationError outside -100..100.
    Not configuration: the profile reads it with the account, so nothing is to be reloaded."""
    account.spot_check_bias_override = bias
    account.full_clean(exclude=[f.name for f in account._meta.fields if f.name != "spot_check_bias_override"])
    account.save(update_fields=["spot_check_bias_override", "updated_at"])
    return account
