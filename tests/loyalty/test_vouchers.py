"""Vouchers: checking a code against a basket, redeeming, giving back, creating, issuing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from langganan.core.errors import Conflict, InvalidInput
from langganan.loyalty import vouchers as v
from langganan.loyalty.models import Voucher, VoucherRedemption
from langganan.loyalty.points import SaleLine
from langganan.loyalty.vouchers import (
    VoucherQuote,
    VoucherRefused,
    voucher_check,
    voucher_create,
    voucher_issue_bulk,
    voucher_issue_welcome,
    voucher_redeem,
    voucher_release,
    vouchers_active_for,
)
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    MerchantFactory,
    OutletFactory,
    ProductFactory,
    TransactionFactory,
)
from tests.loyalty.factories import MemberFactory, ProgramFactory, VoucherFactory

pytestmark = pytest.mark.django_db
JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=JKT)
D = Decimal


def line(amount, *, product=None, category=None, quantity="1") -> SaleLine:
    return SaleLine(
        product_id=product.pk if product else None,
        category_id=category.pk if category else None,
        quantity=D(quantity),
        amount=D(amount),
    )


def check(voucher, *, subtotal="100000", lines=(), customer=None, at=AT, code=None):
    return voucher_check(
        merchant=voucher.merchant,
        code=voucher.code if code is None else code,
        customer=customer,
        lines=list(lines),
        subtotal=D(subtotal),
        at=at,
    )


def refused(voucher, **kwargs) -> VoucherRefused:
    with pytest.raises(VoucherRefused) as err:
        check(voucher, **kwargs)
    assert err.value.code == "voucher_refused"
    return err.value


def sale_for(merchant, customer=None, total="100000"):
    return TransactionFactory(
        merchant=merchant,
        outlet=OutletFactory(merchant=merchant),
        customer=customer,
        total=D(total),
    )


# -- finding the code --------------------------------------------------------------------------


def test_a_code_is_found_trimmed_and_case_insensitively():
    voucher = VoucherFactory(code="HEMAT10")
    quote = check(voucher, code="  hemat10 ")
    assert isinstance(quote, VoucherQuote)
    assert quote.voucher == voucher
    assert quote.discount == D("5000")


def test_an_unknown_code_is_refused_as_not_found():
    voucher = VoucherFactory()
    err = refused(voucher, code="NOPE")
    assert err.reason == v.REASON_NOT_FOUND
    assert err.message == v.MSG_NOT_FOUND


def test_another_merchants_code_is_not_found():
    voucher = VoucherFactory(code="PUNYALAIN")
    with pytest.raises(VoucherRefused) as err:
        voucher_check(
            merchant=MerchantFactory(),
            code="PUNYALAIN",
            customer=None,
            lines=[],
            subtotal=D("100000"),
            at=AT,
        )
    assert err.value.reason == v.REASON_NOT_FOUND
    assert voucher.uses == 0


def test_a_switched_off_voucher_is_refused():
    err = refused(VoucherFactory(is_active=False))
    assert (err.reason, err.message) == (v.REASON_INACTIVE, v.MSG_INACTIVE)


def test_a_template_voucher_is_never_usable():
    err = refused(VoucherFactory(is_template=True))
    assert (err.reason, err.message) == (v.REASON_TEMPLATE, v.MSG_TEMPLATE)


# -- validity window ---------------------------------------------------------------------------


def test_a_voucher_is_valid_from_its_start_inclusive():
    voucher = VoucherFactory(valid_from=AT)
    assert check(voucher, at=AT).discount == D("5000")
    err = refused(voucher, at=AT - timedelta(microseconds=1))
    assert (err.reason, err.message) == (v.REASON_NOT_YET_VALID, v.MSG_NOT_YET_VALID)


def test_a_voucher_is_refused_at_exactly_its_valid_until():
    voucher = VoucherFactory(valid_until=AT)
    assert check(voucher, at=AT - timedelta(microseconds=1)).discount == D("5000")
    err = refused(voucher, at=AT)
    assert (err.reason, err.message) == (v.REASON_EXPIRED, v.MSG_EXPIRED)


# -- limits ------------------------------------------------------------------------------------


def test_a_used_single_use_voucher_is_refused_as_used_up():
    err = refused(VoucherFactory(uses=1))
    assert (err.reason, err.message) == (v.REASON_USED_UP, v.MSG_USED_UP)


def test_a_shared_voucher_is_usable_until_its_last_use():
    voucher = VoucherFactory(kind="shared", max_uses=3, uses=2)
    assert check(voucher).discount == D("5000")
    Voucher.objects.filter(pk=voucher.pk).update(uses=3)
    voucher.refresh_from_db()
    assert refused(voucher).reason == v.REASON_USED_UP


def test_a_shared_voucher_without_max_uses_is_unlimited():
    voucher = VoucherFactory(kind="shared", max_uses=None, uses=10_000)
    assert check(voucher).discount == D("5000")


def test_the_per_customer_limit_counts_only_redemptions_not_given_back():
    voucher = VoucherFactory(kind="shared", max_uses=None, per_customer_limit=1)
    customer = CustomerFactory(merchant=voucher.merchant)
    redemption = VoucherRedemption.objects.create(
        voucher=voucher,
        customer=customer,
        transaction=sale_for(voucher.merchant, customer),
        discount=D("5000"),
    )
    err = refused(voucher, customer=customer)
    assert (err.reason, err.message) == (v.REASON_CUSTOMER_LIMIT, v.MSG_CUSTOMER_LIMIT)
    other = CustomerFactory(merchant=voucher.merchant)
    assert check(voucher, customer=other).discount == D("5000")
    redemption.reversed_at = AT
    redemption.save()
    assert check(voucher, customer=customer).discount == D("5000")


def test_a_per_customer_limit_needs_a_known_customer():
    voucher = VoucherFactory(kind="shared", max_uses=None, per_customer_limit=2)
    err = refused(voucher, customer=None)
    assert (err.reason, err.message) == (v.REASON_MEMBERS_ONLY, v.MSG_MEMBERS_ONLY)


def test_an_assigned_voucher_is_only_for_its_customer():
    owner = CustomerFactory()
    voucher = VoucherFactory(merchant=owner.merchant, customer=owner)
    assert check(voucher, customer=owner).discount == D("5000")
    err = refused(voucher, customer=CustomerFactory(merchant=owner.merchant))
    assert (err.reason, err.message) == (v.REASON_OTHER_CUSTOMER, v.MSG_OTHER_CUSTOMER)
    assert refused(voucher, customer=None).reason == v.REASON_MEMBERS_ONLY


def test_a_customer_of_another_merchant_is_invalid_input():
    voucher = VoucherFactory()
    with pytest.raises(InvalidInput) as err:
        check(voucher, customer=CustomerFactory())
    assert err.value.message == v.ERR_OTHER_MERCHANT


# -- minimum spend and scope -------------------------------------------------------------------


def test_the_minimum_spend_is_met_at_exactly_the_minimum():
    voucher = VoucherFactory(min_spend=D("50000"))
    assert check(voucher, subtotal="50000").discount == D("5000")
    err = refused(voucher, subtotal="49999.99")
    assert err.reason == v.REASON_MIN_SPEND
    assert err.message == v.MSG_MIN_SPEND.format(amount="Rp 50.000")


def test_a_scoped_voucher_discounts_only_the_matching_lines():
    merchant = MerchantFactory()
    drinks = CategoryFactory(merchant=merchant)
    voucher = VoucherFactory(
        merchant=merchant, discount_type="percent", value=D("50"), category=drinks
    )
    lines = [line("20000", category=drinks), line("30000"), line("4000", category=drinks)]
    quote = check(voucher, subtotal="54000", lines=lines)
    assert quote.eligible_amount == D("24000")
    assert quote.discount == D("12000")


def test_a_scope_matches_the_product_or_the_category():
    merchant = MerchantFactory()
    drinks = CategoryFactory(merchant=merchant)
    cake = ProductFactory(merchant=merchant)
    voucher = VoucherFactory(
        merchant=merchant, discount_type="percent", value=D("10"), category=drinks, product=cake
    )
    lines = [line("20000", category=drinks), line("15000", product=cake), line("30000")]
    assert check(voucher, subtotal="65000", lines=lines).eligible_amount == D("35000")


def test_a_scoped_voucher_measures_the_minimum_spend_on_the_matching_lines():
    merchant = MerchantFactory()
    drinks = CategoryFactory(merchant=merchant)
    voucher = VoucherFactory(merchant=merchant, category=drinks, min_spend=D("25000"))
    lines = [line("20000", category=drinks), line("80000")]
    assert refused(voucher, subtotal="100000", lines=lines).reason == v.REASON_MIN_SPEND
    lines = [line("25000", category=drinks), line("80000")]
    assert check(voucher, subtotal="105000", lines=lines).discount == D("5000")


def test_a_scoped_voucher_without_a_matching_line_is_out_of_scope():
    merchant = MerchantFactory()
    voucher = VoucherFactory(merchant=merchant, product=ProductFactory(merchant=merchant))
    err = refused(voucher, lines=[line("100000")])
    assert (err.reason, err.message) == (v.REASON_OUT_OF_SCOPE, v.MSG_OUT_OF_SCOPE)


# -- the discount ------------------------------------------------------------------------------


def test_a_fixed_discount_is_never_more_than_the_eligible_amount():
    merchant = MerchantFactory()
    cake = ProductFactory(merchant=merchant)
    voucher = VoucherFactory(merchant=merchant, value=D("5000"), product=cake)
    quote = check(voucher, subtotal="50000", lines=[line("3000", product=cake), line("47000")])
    assert quote.discount == D("3000")


def test_a_percent_discount_is_rounded_down_to_whole_rupiah():
    voucher = VoucherFactory(discount_type="percent", value=D("10"))
    assert check(voucher, subtotal="12345").discount == D("1234")
    assert check(voucher, subtotal="12349.99").discount == D("1234")
    assert check(voucher, subtotal="12350").discount == D("1235")


def test_a_percent_discount_is_capped_by_the_largest_discount():
    voucher = VoucherFactory(discount_type="percent", value=D("20"), max_discount=D("15000"))
    assert check(voucher, subtotal="74999").discount == D("14999")
    assert check(voucher, subtotal="75000").discount == D("15000")
    assert check(voucher, subtotal="200000").discount == D("15000")


def test_a_free_item_voucher_gives_the_price_of_one_unit_in_the_basket():
    merchant = MerchantFactory()
    coffee = ProductFactory(merchant=merchant, price=D("18000"))
    voucher = VoucherFactory(merchant=merchant, discount_type="free_item", free_product=coffee)
    lines = [line("30000", product=coffee, quantity="2"), line("20000")]
    quote = check(voucher, subtotal="50000", lines=lines)
    assert quote.discount == D("15000")  # the price paid in this basket, not the menu price
    assert quote.free_product_id == coffee.pk


def test_a_free_item_voucher_without_the_item_in_the_basket_is_out_of_scope():
    merchant = MerchantFactory()
    coffee = ProductFactory(merchant=merchant)
    voucher = VoucherFactory(merchant=merchant, discount_type="free_item", free_product=coffee)
    assert refused(voucher, lines=[line("50000")]).reason == v.REASON_OUT_OF_SCOPE


def test_a_discount_is_never_more_than_what_is_left_of_the_bill():
    voucher = VoucherFactory(value=D("20000"))
    assert check(voucher, subtotal="12000").discount == D("12000")


def test_checking_changes_nothing():
    voucher = VoucherFactory()
    check(voucher)
    voucher.refresh_from_db()
    assert voucher.uses == 0
    assert not VoucherRedemption.objects.exists()


# -- redeeming and giving back -----------------------------------------------------------------


def test_redeeming_counts_a_use_and_records_the_redemption():
    voucher = VoucherFactory()
    customer = CustomerFactory(merchant=voucher.merchant)
    sale = sale_for(voucher.merchant, customer)
    quote = check(voucher, customer=customer)
    redemption = voucher_redeem(quote=quote, customer=customer, transaction_obj=sale, at=AT)
    voucher.refresh_from_db()
    assert voucher.uses == 1
    assert (redemption.voucher, redemption.customer, redemption.transaction) == (
        voucher,
        customer,
        sale,
    )
    assert redemption.discount == D("5000")
    assert redemption.redeemed_at == AT


def test_a_quote_cannot_be_redeemed_after_the_voucher_was_used_up_meanwhile():
    voucher = VoucherFactory()
    quote = check(voucher)
    first = check(voucher)
    voucher_redeem(quote=first, customer=None, transaction_obj=sale_for(voucher.merchant), at=AT)
    with pytest.raises(VoucherRefused) as err:
        voucher_redeem(
            quote=quote, customer=None, transaction_obj=sale_for(voucher.merchant), at=AT
        )
    assert err.value.reason == v.REASON_USED_UP
    assert VoucherRedemption.objects.count() == 1


def test_redeeming_checks_the_per_customer_limit_again():
    voucher = VoucherFactory(kind="shared", max_uses=None, per_customer_limit=1)
    customer = CustomerFactory(merchant=voucher.merchant)
    quotes = [check(voucher, customer=customer) for _ in range(2)]
    voucher_redeem(
        quote=quotes[0], customer=customer, transaction_obj=sale_for(voucher.merchant), at=AT
    )
    with pytest.raises(VoucherRefused) as err:
        voucher_redeem(
            quote=quotes[1], customer=customer, transaction_obj=sale_for(voucher.merchant), at=AT
        )
    assert err.value.reason == v.REASON_CUSTOMER_LIMIT


def test_the_database_check_on_uses_is_reported_as_used_up(monkeypatch):
    voucher = VoucherFactory()
    quote = check(voucher)
    Voucher.objects.filter(pk=voucher.pk).update(uses=1)
    monkeypatch.setattr(v, "_check_rules", lambda *args: None)  # as if the re-check were skipped
    with pytest.raises(VoucherRefused) as err:
        voucher_redeem(
            quote=quote, customer=None, transaction_obj=sale_for(voucher.merchant), at=AT
        )
    assert err.value.reason == v.REASON_USED_UP
    assert not VoucherRedemption.objects.exists()


def test_a_voucher_is_used_once_per_sale():
    voucher = VoucherFactory(kind="shared", max_uses=None)
    sale = sale_for(voucher.merchant)
    voucher_redeem(quote=check(voucher), customer=None, transaction_obj=sale, at=AT)
    with pytest.raises(Conflict) as err:
        voucher_redeem(quote=check(voucher), customer=None, transaction_obj=sale, at=AT)
    assert err.value.message == v.ERR_ALREADY_ON_SALE
    voucher.refresh_from_db()
    assert voucher.uses == 1


def test_redeeming_on_another_merchants_sale_is_refused():
    voucher = VoucherFactory()
    with pytest.raises(InvalidInput) as err:
        voucher_redeem(
            quote=check(voucher), customer=None, transaction_obj=sale_for(MerchantFactory()), at=AT
        )
    assert err.value.message == v.ERR_OTHER_MERCHANT


def test_releasing_gives_the_use_back_once():
    voucher = VoucherFactory()
    customer = CustomerFactory(merchant=voucher.merchant)
    redemption = voucher_redeem(
        quote=check(voucher, customer=customer),
        customer=customer,
        transaction_obj=sale_for(voucher.merchant, customer),
        at=AT,
    )
    later = AT + timedelta(hours=1)
    assert voucher_release(redemption=redemption, at=later) is True
    assert voucher_release(redemption=redemption, at=later) is False
    stale = VoucherRedemption.objects.get(pk=redemption.pk)
    stale.reversed_at = None  # a copy loaded before the release
    assert voucher_release(redemption=stale, at=later) is False
    voucher.refresh_from_db()
    redemption.refresh_from_db()
    assert voucher.uses == 0
    assert redemption.reversed_at == later
    assert check(voucher, customer=customer).discount == D("5000")  # usable again


# -- creating ----------------------------------------------------------------------------------


def test_a_generated_code_is_readable_and_unique():
    merchant = MerchantFactory()
    codes = {voucher_create(merchant=merchant, value=D("1000")).code for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == v.CODE_LENGTH
        assert set(code) <= set(v.CODE_ALPHABET)
        assert not set(code) & set("0O1I")


def test_a_given_code_is_stored_in_capitals_and_a_single_use_voucher_is_used_once():
    voucher = voucher_create(merchant=MerchantFactory(), code=" lebaran25 ", value=D("25000"))
    assert voucher.code == "LEBARAN25"
    assert voucher.name == "LEBARAN25"
    assert (voucher.kind, voucher.max_uses, voucher.uses) == ("single", 1, 0)


def test_a_code_taken_in_other_capitals_is_refused():
    merchant = MerchantFactory()
    VoucherFactory(merchant=merchant, code="MERDEKA")
    with pytest.raises(Conflict) as err:
        voucher_create(merchant=merchant, code="merdeka")
    assert err.value.message == v.ERR_CODE_TAKEN
    voucher_create(merchant=MerchantFactory(), code="merdeka")  # another merchant may


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "a b"}, v.ERR_CODE_INVALID),
        ({"code": "AB"}, v.ERR_CODE_INVALID),
        ({"max_uses": 5}, v.ERR_SINGLE_USE_MAX_USES),
        ({"discount_type": "free_item"}, v.ERR_FREE_ITEM_PRODUCT),
        ({"discount_type": "percent", "value": D("101")}, v.ERR_PERCENT_RANGE),
        ({"value": D("-1")}, v.ERR_VALUE_NEGATIVE),
        ({"valid_from": AT, "valid_until": AT}, v.ERR_VALIDITY_ORDER),
        ({"uses": 3}, v.ERR_USES_READ_ONLY),
    ],
)
def test_an_inconsistent_voucher_is_refused(fields, message):
    with pytest.raises(InvalidInput) as err:
        voucher_create(merchant=MerchantFactory(), **fields)
    assert err.value.message == message
    assert not Voucher.objects.exists()


def test_a_voucher_cannot_name_another_merchants_product():
    with pytest.raises(InvalidInput) as err:
        voucher_create(merchant=MerchantFactory(), product=ProductFactory())
    assert err.value.message == v.ERR_OTHER_MERCHANT


def test_a_shared_voucher_may_have_any_limit():
    voucher = voucher_create(
        merchant=MerchantFactory(), kind="shared", max_uses=100, per_customer_limit=1
    )
    assert (voucher.max_uses, voucher.per_customer_limit) == (100, 1)


# -- issuing personal codes --------------------------------------------------------------------


@pytest.fixture
def template():
    merchant = MerchantFactory()
    return VoucherFactory(
        merchant=merchant,
        code="TPL-ULTAH",
        name="Ulang tahun",
        kind="shared",
        max_uses=None,
        is_template=True,
        discount_type="percent",
        value=D("15"),
        max_discount=D("30000"),
        min_spend=D("50000"),
        category=CategoryFactory(merchant=merchant),
        valid_until=AT + timedelta(days=60),
    )


def test_bulk_issue_gives_each_customer_one_personal_single_use_copy(template):
    customers = CustomerFactory.create_batch(3, merchant=template.merchant)
    issued = voucher_issue_bulk(
        template=template, customers=customers + customers[:1], at=AT, batch="ultah-2026-03"
    )
    assert sorted(x.customer_id for x in issued) == sorted(c.pk for c in customers)
    assert len({x.code for x in issued}) == 3
    for voucher in Voucher.objects.filter(batch="ultah-2026-03"):
        assert (voucher.kind, voucher.max_uses, voucher.uses, voucher.is_template) == (
            "single",
            1,
            0,
            False,
        )
        assert (voucher.name, voucher.discount_type, voucher.value) == (
            "Ulang tahun",
            "percent",
            D("15"),
        )
        assert (voucher.max_discount, voucher.min_spend) == (D("30000"), D("50000"))
        assert voucher.category_id == template.category_id
        assert (voucher.valid_from, voucher.valid_until) == (None, template.valid_until)
        assert set(voucher.code) <= set(v.CODE_ALPHABET)


def test_running_the_same_batch_again_issues_nothing_new(template):
    customers = CustomerFactory.create_batch(2, merchant=template.merchant)
    voucher_issue_bulk(template=template, customers=customers, at=AT, batch="b1")
    assert voucher_issue_bulk(template=template, customers=customers, at=AT, batch="b1") == []
    newcomer = CustomerFactory(merchant=template.merchant)
    again = voucher_issue_bulk(
        template=template, customers=[*customers, newcomer], at=AT, batch="b1"
    )
    assert [x.customer_id for x in again] == [newcomer.pk]
    assert Voucher.objects.filter(batch="b1").count() == 3
    assert len(voucher_issue_bulk(template=template, customers=customers, at=AT, batch="b2")) == 2


def test_valid_days_run_through_the_end_of_the_last_day_in_jakarta(template):
    customer = CustomerFactory(merchant=template.merchant)
    late_evening = datetime(2026, 1, 1, 22, 30, tzinfo=JKT)
    (voucher,) = voucher_issue_bulk(
        template=template, customers=[customer], at=late_evening, batch="b", valid_days=30
    )
    assert voucher.valid_from == late_evening
    assert voucher.valid_until == datetime(2026, 2, 1, 0, 0, tzinfo=JKT)
    basket = {"customer": customer, "lines": [line("100000", category=template.category)]}
    usable = check(voucher, at=datetime(2026, 1, 31, 23, 59, tzinfo=JKT), **basket)
    assert usable.discount == D("15000")
    err = refused(voucher, at=datetime(2026, 2, 1, 0, 0, tzinfo=JKT), **basket)
    assert err.reason == v.REASON_EXPIRED


def test_only_a_template_can_be_issued(template):
    ordinary = VoucherFactory(merchant=template.merchant)
    with pytest.raises(InvalidInput) as err:
        voucher_issue_bulk(
            template=ordinary,
            customers=[CustomerFactory(merchant=template.merchant)],
            at=AT,
            batch="b",
        )
    assert err.value.message == v.ERR_NOT_A_TEMPLATE


def test_issuing_to_another_merchants_customer_is_refused_and_issues_nothing(template):
    mine = CustomerFactory(merchant=template.merchant)
    with pytest.raises(InvalidInput) as err:
        voucher_issue_bulk(template=template, customers=[mine, CustomerFactory()], at=AT, batch="b")
    assert err.value.message == v.ERR_OTHER_MERCHANT
    assert not Voucher.objects.filter(batch="b").exists()


def test_a_batch_name_is_required(template):
    with pytest.raises(InvalidInput) as err:
        voucher_issue_bulk(template=template, customers=[], at=AT, batch="  ")
    assert err.value.message == v.ERR_BATCH_REQUIRED


def test_a_welcome_voucher_is_issued_once_per_member(template):
    ProgramFactory(merchant=template.merchant, welcome_voucher=template, welcome_voucher_days=14)
    member = MemberFactory(customer=CustomerFactory(merchant=template.merchant))
    voucher = voucher_issue_welcome(member=member, at=AT)
    assert voucher is not None
    assert (voucher.customer, voucher.batch) == (member.customer, v.WELCOME_BATCH)
    assert voucher.valid_until == datetime(2026, 3, 25, 0, 0, tzinfo=JKT)
    assert voucher_issue_welcome(member=member, at=AT + timedelta(days=1)) is None
    assert Voucher.objects.filter(customer=member.customer).count() == 1


def test_no_welcome_voucher_without_a_template_in_the_program():
    program = ProgramFactory()
    member = MemberFactory(customer=CustomerFactory(merchant=program.merchant))
    assert voucher_issue_welcome(member=member, at=AT) is None
    assert not Voucher.objects.exists()


# -- the cashier's list ------------------------------------------------------------------------


def test_the_cashier_sees_the_customers_usable_personal_vouchers_soonest_first():
    customer = CustomerFactory()
    merchant = customer.merchant

    def mine(**kwargs):
        return VoucherFactory(merchant=merchant, customer=customer, **kwargs)

    later = mine(valid_until=AT + timedelta(days=20))
    sooner = mine(valid_until=AT + timedelta(days=2))
    open_ended = mine()
    mine(uses=1)  # used
    mine(valid_until=AT)  # expired at exactly AT
    mine(valid_from=AT + timedelta(minutes=1))  # not yet
    mine(is_active=False)
    limited = mine(kind="shared", max_uses=None, per_customer_limit=1)
    VoucherRedemption.objects.create(
        voucher=limited, customer=customer, transaction=sale_for(merchant), discount=D("1")
    )
    VoucherFactory(merchant=merchant)  # a shared code, not personal
    VoucherFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant))
    assert vouchers_active_for(customer=customer, at=AT) == [sooner, later, open_ended]


def test_redeem_and_release_run_inside_the_callers_transaction():
    voucher = VoucherFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        voucher_redeem(
            quote=check(voucher), customer=None, transaction_obj=sale_for(voucher.merchant), at=AT
        )
        raise RuntimeError("the sale failed")
    voucher.refresh_from_db()
    assert voucher.uses == 0
    assert not VoucherRedemption.objects.exists()


def test_an_inactive_template_issues_nothing(template):
    Voucher.objects.filter(pk=template.pk).update(is_active=False)
    template.refresh_from_db()
    customer = CustomerFactory(merchant=template.merchant)
    with pytest.raises(InvalidInput) as err:
        voucher_issue_bulk(template=template, customers=[customer], at=AT, batch="b")
    assert err.value.message == v.ERR_TEMPLATE_INACTIVE
    ProgramFactory(merchant=template.merchant, welcome_voucher=template)
    member = MemberFactory(customer=customer)
    assert voucher_issue_welcome(member=member, at=AT) is None
    assert not Voucher.objects.filter(customer=customer).exists()


def test_a_time_without_a_time_zone_is_refused():
    voucher = VoucherFactory()
    with pytest.raises(InvalidInput):
        check(voucher, at=datetime(2026, 3, 10, 12, 0))
