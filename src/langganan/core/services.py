"""Writes for tenancy: merchants, outlets, staff."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Membership, Merchant, Outlet, Role

ERR_MERCHANT_EXISTS = "a merchant with this slug already exists"
ERR_OUTLET_EXISTS = "this merchant already has an outlet with this code"
ERR_ROLE_INVALID = "role must be one of owner, manager, cashier"
ERR_USER_EXISTS = "a user with this username already exists"


def _validated(obj, exclude=None):
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(f"{field}: {' '.join(messages)}", field=field) from exc
    return obj


@transaction.atomic
def merchant_create(
    *, slug: str, name: str, time_zone: str = "Asia/Jakarta", business_type: str | None = None
) -> Merchant:
    if Merchant.objects.filter(slug=slug).exists():
        raise Conflict(ERR_MERCHANT_EXISTS, field="slug")
    merchant = _validated(
        Merchant(slug=slug, name=name, time_zone=time_zone, business_type=business_type)
    )
    merchant.save()
    return merchant


@transaction.atomic
def outlet_create(
    *, merchant: Merchant, code: str, name: str, address: str = "", city: str = ""
) -> Outlet:
    if Outlet.objects.filter(merchant=merchant, code=code).exists():
        raise Conflict(ERR_OUTLET_EXISTS, field="code")
    outlet = _validated(
        Outlet(merchant=merchant, code=code, name=name, address=address, city=city),
        exclude=["merchant"],
    )
    outlet.save()
    return outlet


@transaction.atomic
def staff_user_create(
    *,
    merchant: Merchant,
    username: str,
    password: str,
    role: str,
    email: str = "",
    outlet: Outlet | None = None,
    reset_password_if_exists: bool = False,
) -> AbstractBaseUser:
    """Create a login with a role at ``merchant`` (or reset it, when asked)."""
    if role not in Role.values:
        raise InvalidInput(ERR_ROLE_INVALID, field="role")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None and not reset_password_if_exists:
        raise Conflict(ERR_USER_EXISTS, field="username")
    if user is None:
        user = User(username=username, email=email)
    user.set_password(password)
    user.is_staff = role in (Role.OWNER, Role.MANAGER)
    user.save()
    Membership.objects.update_or_create(
        merchant=merchant, user=user, defaults={"role": role, "outlet": outlet}
    )
    return user


@transaction.atomic
def outlet_get_or_create_default(*, merchant: Merchant) -> Outlet:
    """The outlet used for records that name none: the first one, or a new ``MAIN``."""
    outlet = Outlet.objects.filter(merchant=merchant).order_by("id").first()
    if outlet is None:
        outlet = Outlet.objects.create(merchant=merchant, code="MAIN", name=merchant.name)
    return outlet
