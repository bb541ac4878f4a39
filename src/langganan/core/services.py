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


# -- set-up in the browser ------------------------------------------------------------------

ERR_SETUP_NOT_ALLOWED = "this account may not create a business"
#: the permission of an account that may create businesses (the installation's first owner)
CREATE_PERMISSION = "core.add_merchant"


def slug_for(name: str) -> str:
    """A free slug for a business name: ``Warteg Bu Sri`` → ``warteg-bu-sri`` (``-2``, ``-3``
    when taken)."""
    from django.utils.text import slugify

    base = (slugify(name) or "usaha")[:44].strip("-") or "usaha"
    slug, n = base, 1
    while Merchant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def may_create_merchant(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm(CREATE_PERMISSION)))


@transaction.atomic
def merchant_setup(
    *,
    user,
    name: str,
    business_type: str,
    time_zone: str,
    outlet_name: str,
    outlet_city: str = "",
    outlet_address: str = "",
) -> Merchant:
    """A new business from the browser's set-up: the merchant, its first outlet, and ``user``
    as its owner."""
    if not may_create_merchant(user):
        raise InvalidInput(ERR_SETUP_NOT_ALLOWED)
    merchant = merchant_create(
        slug=slug_for(name), name=name.strip(), time_zone=time_zone, business_type=business_type
    )
    outlet_create(
        merchant=merchant,
        code=outlet_code_next(merchant, outlet_city or outlet_name),
        name=outlet_name.strip(),
        city=outlet_city.strip(),
        address=outlet_address.strip(),
    )
    Membership.objects.create(merchant=merchant, user=user, role=Role.OWNER)
    return merchant


def outlet_code_next(merchant: Merchant, place: str) -> str:
    """A short free outlet code from a place's name: ``Kemang`` → ``KEM-01``, then ``KEM-02``."""
    letters = "".join(ch for ch in (place or "").upper() if ch.isalpha())[:3] or "OUT"
    n = 1
    while Outlet.objects.filter(merchant=merchant, code=f"{letters}-{n:02d}").exists():
        n += 1
    return f"{letters}-{n:02d}"


def owner_account_create(*, username: str, password: str, email: str = "") -> AbstractBaseUser:
    """The installation's first owner: a login that may create businesses in the browser (and
    nothing else until it has one); not staff, not a superuser."""
    from django.contrib.auth.models import Permission

    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise Conflict(ERR_USER_EXISTS, field="username")
    user = User(username=username, email=email)
    user.set_password(password)
    user.save()
    app, codename = CREATE_PERMISSION.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app, codename=codename)
    )
    return user
