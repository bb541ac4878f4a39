"""The counter screen (kasir): finding the customer, the card, the basket, the sale through the
checkout service, the receipt, and who may do what. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from langganan.loyalty.points import points_earn
from langganan.loyalty.tab import tab_set_limit
from langganan.sales.models import Transaction
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    MembershipFactory,
    MerchantFactory,
    OutletFactory,
    ProductFactory,
    TransactionFactory,
)
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (a threaded test's ledger rows)
from tests.loyalty.factories import MemberFactory, ProgramFactory, VoucherFactory
from tests.loyalty.test_card_cashier import insight_for

pytestmark = pytest.mark.django_db

PHONE = "+6281234567890"


@pytest.fixture(autouse=True)
def _fresh_menu_ranking():
    cache.clear()  # the menu's ranking is cached per merchant id, which a new database reuses
    yield
    cache.clear()


@pytest.fixture
def shop(merchant):
    outlet = OutletFactory(merchant=merchant, code="JKT-01", name="Kopi Menteng")
    ProgramFactory(merchant=merchant, max_redeem_share=Decimal("0.5"))
    coffee = ProductFactory(merchant=merchant, name="Es Kopi Susu", price=Decimal("20000"))
    tea = ProductFactory(merchant=merchant, name="Teh Manis", price=Decimal("8000"))
    rice = ProductFactory(merchant=merchant, name="Nasi Ayam", price=Decimal("30000"))
    customer = CustomerFactory(
        merchant=merchant,
        full_name="Rina Wati",
        phone=PHONE,
        member_code="LG0001",
        gender="F",
        birth_date=timezone.localdate() - timedelta(days=365 * 25),
    )
    MemberFactory(customer=customer)
    at = timezone.now() - timedelta(days=30)
    points_earn(customer=customer, points=500, key="opening", at=at)
    tab_set_limit(customer=customer, limit=Decimal("50000"), at=at)
    insight_for(
        customer,
        orders=10,
        lifecycle="loyal",
        last_purchase=timezone.now() - timedelta(days=22),
        usual_order=[
            {"item": "Es Kopi Susu", "times": 8, "rank": 1},
            {"item": "Teh Manis", "times": 2, "rank": 2},
        ],
    )
    return {
        "merchant": merchant,
        "outlet": outlet,
        "coffee": coffee,
        "tea": tea,
        "rice": rice,
        "customer": customer,
    }


def _client(merchant, role="cashier", outlet=None) -> Client:
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role, outlet=outlet).user)
    return client


def _url(shop, name="counter:screen", **kwargs) -> str:
    return reverse(name, kwargs={"slug": shop["merchant"].slug, **kwargs})


def _find(client, shop, query: str):
    return client.get(_url(shop), {"q": query})


def _text(html: str) -> str:
    """The page's words without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def _serve(client, shop) -> str:
    """Find Rina by her phone number; the screen's basket key."""
    assert _find(client, shop, "0812-3456-7890").status_code == 302
    return _key(client.get(_url(shop)).content.decode())


def _pay(client, shop, key, lines, customer=True, **fields):
    data = {"key": key, "method": "cash", **fields}
    if customer:
        data["customer"] = shop["customer"].pk
    for product, quantity in lines:
        data[f"q{product.pk}"] = str(quantity)
    return client.post(_url(shop, "counter:sale"), data)


# -- finding the customer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["0812-3456-7890", "081234567890", "6281234567890", "+62 812-3456-7890", "812 3456 7890"],
)
def test_the_counter_finds_a_customer_by_any_form_of_her_phone_number(shop, query):
    client = _client(shop["merchant"])

    response = _find(client, shop, query)

    assert response.status_code == 302 and response["Location"] == _url(shop)
    html = client.get(_url(shop)).content.decode()
    assert "Mbak Rina" in html
    assert "0812-****-890" in html and "3456" not in html  # masked


def test_the_counter_finds_a_customer_by_member_code_in_any_case(shop):
    client = _client(shop["merchant"])

    assert _find(client, shop, "lg0001").status_code == 302
    assert "Mbak Rina" in client.get(_url(shop)).content.decode()


def test_a_name_finds_at_most_ten_customers_whose_name_or_a_word_of_it_starts_with_it(shop):
    merchant = shop["merchant"]
    CustomerFactory(merchant=merchant, full_name="Dewi Rinjani")
    CustomerFactory(merchant=merchant, full_name="Karina Putri")  # "rin" inside a word: no
    for n in range(12):
        CustomerFactory(merchant=merchant, full_name=f"Budi {n:02d}")
    client = _client(merchant)

    html = _find(client, shop, "rin").content.decode()

    assert "Rina Wati" in html and "Dewi Rinjani" in html and "Karina" not in html
    assert "0812-****-890" in html and "3456" not in html
    budi = _find(client, shop, "budi").content.decode()
    assert budi.count('class="kasir-result"') == 10


def test_a_cashier_picks_only_a_customer_of_their_own_search(shop):
    merchant = shop["merchant"]
    dewi = CustomerFactory(merchant=merchant, full_name="Dewi Rinjani")
    other = CustomerFactory(merchant=merchant, full_name="Budi Santoso")
    client = _client(merchant)
    _find(client, shop, "dewi")

    assert client.get(_url(shop, "counter:pick", pk=other.pk)).status_code == 403
    response = client.get(_url(shop, "counter:pick", pk=dewi.pk))

    assert response.status_code == 302
    assert "Dewi Rinjani" in client.get(_url(shop)).content.decode()


def test_a_number_nobody_has_says_so_and_the_sale_stays_a_walk_in(shop):
    client = _client(shop["merchant"])

    html = _find(client, shop, "0857-0000-1111").content.decode()

    assert "Tidak ada pelanggan untuk" in html
    assert "pembeli umum" in html
    enrol = reverse("counter:enrol", kwargs={"slug": shop["merchant"].slug})
    assert f'href="{enrol}?phone=0857-0000-1111"' in html  # enrol her with the number typed


def test_another_merchants_customer_is_found_nowhere(shop):
    stranger = CustomerFactory(merchant=MerchantFactory(), phone="+6285712345678")
    owner = _client(shop["merchant"], role="owner")

    assert _find(owner, shop, "0857-1234-5678").status_code == 200
    assert _find(owner, shop, stranger.member_code).status_code == 200
    assert owner.get(_url(shop, "counter:pick", pk=stranger.pk)).status_code == 404
    key = _key(owner.get(_url(shop)).content.decode())
    response = owner.post(
        _url(shop, "counter:sale"),
        {"key": key, "customer": stranger.pk, "method": "cash", f"q{shop['coffee'].pk}": "1"},
    )
    assert response.status_code == 404
    assert not Transaction.objects.exists()


# -- the card ----------------------------------------------------------------------------------


def test_the_card_greets_her_and_shows_what_the_cashier_needs(shop):
    VoucherFactory(merchant=shop["merchant"], customer=shop["customer"], code="HEMAT5")
    client = _client(shop["merchant"])
    _serve(client, shop)

    html = client.get(_url(shop)).content.decode()

    assert "Mbak Rina" in html
    assert "Tawarkan Es Kopi Susu seperti biasa" in html  # the suggested thing to say
    assert "Yang biasa?" in html
    assert f'data-add="{shop["coffee"].pk}"' in html  # one tap fills the basket
    text = _text(html)
    assert "Poin 500 (Rp 50.000)" in text  # points and their value
    assert "Setia · sudah 3 minggu tidak datang" in text
    assert "Kasbon Rp 0 dari Rp 50.000" in text  # the tab and its limit
    assert "HEMAT5" in html
    assert "Kasbon" in html


def test_the_birthday_this_week_is_on_the_card(shop):
    customer = shop["customer"]
    customer.birth_date = timezone.localdate().replace(year=1995)
    customer.save()
    client = _client(shop["merchant"])
    _serve(client, shop)

    assert "Hari ini ulang tahun!" in client.get(_url(shop)).content.decode()


def test_the_usual_tap_fills_the_basket_without_javascript(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = client.post(
        _url(shop), {"key": key, "customer": shop["customer"].pk, "add": str(shop["coffee"].pk)}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="q{shop["coffee"].pk}" value="1"' in html
    assert _key(html) == key  # the same basket
    assert "Rp 20.000" in html


def test_the_menu_shows_the_most_sold_first(shop):
    sale = TransactionFactory(merchant=shop["merchant"], outlet=shop["outlet"])
    LineItemFactory(transaction=sale, product=shop["rice"], quantity=Decimal("5"))
    LineItemFactory(transaction=sale, product=shop["tea"], quantity=Decimal("2"))
    client = _client(shop["merchant"])

    html = client.get(_url(shop)).content.decode()

    order = [
        html.index(f'class="product" data-add="{p.pk}"')
        for p in ("rice", "tea", "coffee")
        for p in [shop[p]]
    ]
    assert order == sorted(order)


# -- the sale ----------------------------------------------------------------------------------


def test_a_sale_pays_half_with_points_and_shows_the_receipt(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    edit = client.post(
        _url(shop),
        {
            "key": key,
            "customer": shop["customer"].pk,
            "add": str(shop["coffee"].pk),
            "points_max": "1",
        },
    ).content.decode()
    points = re.search(r'name="points" value="(\d+)"', edit).group(1)
    assert points == "100"  # half of Rp 20.000 at Rp 100 a point

    response = _pay(client, shop, key, [(shop["coffee"], 1)], points=points)

    assert response.status_code == 302
    assert response["Location"] == _url(shop, "counter:receipt", key=key)
    sale = Transaction.objects.get()
    assert sale.total == Decimal("10000") and sale.customer == shop["customer"]
    receipt = client.get(response["Location"]).content.decode()
    assert "Transaksi tercatat" in receipt
    assert "+1 poin" in receipt and "Poin sekarang: 401" in receipt
    assert _url(shop, "counter:receipt_whatsapp", key=key) in receipt


def test_the_receipt_goes_to_whatsapp_with_the_points(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    _pay(client, shop, key, [(shop["coffee"], 2)])

    response = client.get(_url(shop, "counter:receipt_whatsapp", key=key))

    assert response.status_code == 302
    link = urlparse(response["Location"])
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/6281234567890")
    text = parse_qs(link.query)["text"][0]
    assert "2 × Es Kopi Susu" in text and "Total Rp 40.000" in text
    assert "Poin +4" in text and "Terima kasih, Mbak Rina!" in text


def test_the_same_basket_posted_twice_records_one_sale(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    first = _pay(client, shop, key, [(shop["coffee"], 1)], points="50")
    again = _pay(client, shop, key, [(shop["coffee"], 1)], points="50")

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Transaction.objects.count() == 1


def test_a_voucher_takes_its_discount(shop):
    VoucherFactory(merchant=shop["merchant"], code="HEMAT5", value=Decimal("5000"))
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["coffee"], 1)], voucher="hemat5")

    assert response.status_code == 302
    assert Transaction.objects.get().total == Decimal("15000")
    assert "Voucher HEMAT5" in client.get(response["Location"]).content.decode()


def test_a_used_voucher_is_refused_in_indonesian(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["coffee"], 1)], voucher="TIDAKADA")

    assert response.status_code == 422
    assert "Tidak ada voucher dengan kode ini." in response.content.decode()
    assert not Transaction.objects.exists()


def test_kasbon_puts_the_bill_on_the_tab_within_its_limit(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["coffee"], 2)], method="tab")

    assert response.status_code == 302
    receipt = client.get(response["Location"]).content.decode()
    assert "Kasbon sekarang Rp 40.000 dari Rp 50.000" in receipt


def test_kasbon_over_the_limit_is_refused_with_a_clear_message(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["rice"], 2)], method="tab")

    assert response.status_code == 422
    html = response.content.decode()
    assert "Melebihi batas kasbon: hanya Rp 50.000 lagi yang bisa dikasbon." in html
    assert _key(html) == key and f'name="q{shop["rice"].pk}" value="2"' in html  # kept
    assert not Transaction.objects.exists()


def test_part_on_the_tab_and_the_rest_in_cash_is_a_split(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["rice"], 1)], method="qris", tab="10000")

    assert response.status_code == 302
    sale = Transaction.objects.get()
    assert sale.payment_method == "qris" and sale.total == Decimal("30000")
    result = client.get(response["Location"]).content.decode()
    assert "Rp 20.000" in result and "Rp 10.000" in result


def test_a_walk_in_without_a_customer_is_a_sale(shop):
    client = _client(shop["merchant"])
    key = _key(client.get(_url(shop)).content.decode())

    response = _pay(client, shop, key, [(shop["tea"], 3)], customer=False, method="e_wallet")

    assert response.status_code == 302
    sale = Transaction.objects.get()
    assert sale.customer is None and sale.total == Decimal("24000")
    assert sale.payment_method == "e_wallet" and sale.outlet == shop["outlet"]
    receipt = client.get(response["Location"]).content.decode()
    assert "Kirim struk lewat WhatsApp" not in receipt


def test_the_sale_is_recorded_at_the_cashiers_own_outlet(shop):
    other = OutletFactory(merchant=shop["merchant"], code="BDG-01", name="Kopi Dago")
    client = _client(shop["merchant"], outlet=other)
    key = _key(client.get(_url(shop)).content.decode())

    _pay(client, shop, key, [(shop["tea"], 1)], customer=False)

    assert Transaction.objects.get().outlet == other


def test_an_empty_basket_is_not_a_sale(shop):
    client = _client(shop["merchant"])
    key = _key(client.get(_url(shop)).content.decode())

    response = _pay(client, shop, key, [], customer=False)

    assert response.status_code == 400
    assert "Keranjang masih kosong" in response.content.decode()


# -- roles -------------------------------------------------------------------------------------


def test_the_counter_is_the_cashiers_start_page(shop):
    cashier = _client(shop["merchant"])

    assert cashier.get(reverse("web:home"))["Location"] == _url(shop)
    html = cashier.get(_url(shop)).content.decode()
    assert f'href="{_url(shop)}"' in html and "Kasir" in html  # in the menu


def test_someone_not_logged_in_goes_to_the_login(shop):
    response = Client().get(_url(shop))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_another_merchants_staff_get_a_404(shop):
    stranger = _client(MerchantFactory(), role="owner")

    assert stranger.get(_url(shop)).status_code == 404


def test_a_cashier_sells_only_to_the_customer_they_serve(shop):
    other = CustomerFactory(merchant=shop["merchant"], full_name="Budi Santoso")
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = client.post(
        _url(shop, "counter:sale"),
        {"key": key, "customer": other.pk, "method": "cash", f"q{shop['tea'].pk}": "1"},
    )

    assert response.status_code == 403
    assert not Transaction.objects.exists()


def test_another_merchants_receipt_is_a_404(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    _pay(client, shop, key, [(shop["tea"], 1)])
    stranger_merchant = MerchantFactory()
    stranger = _client(stranger_merchant, role="owner")

    url = reverse("counter:receipt", kwargs={"slug": stranger_merchant.slug, "key": key})
    assert stranger.get(url).status_code == 404


def test_store_credit_pays_part_and_the_method_the_rest(shop):
    from langganan.loyalty.credit import credit_grant

    credit_grant(customer=shop["customer"], amount=Decimal("7000"), key="gift", at=timezone.now())
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["coffee"], 1)], method="qris", credit="7000")

    assert response.status_code == 302
    receipt = _text(client.get(response["Location"]).content.decode())
    assert "Saldo toko Rp 7.000" in receipt or "Saldo Rp 7.000" in receipt
    assert "QRIS Rp 13.000" in receipt


def test_more_points_than_the_program_allows_are_refused_in_indonesian(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["coffee"], 1)], points="150")

    assert response.status_code == 422
    assert "Paling banyak 100 poin untuk tagihan ini (50% dari tagihan)." in _text(
        response.content.decode()
    )
    assert not Transaction.objects.exists()


def test_the_note_is_on_the_receipt_and_in_the_whatsapp_text(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(client, shop, key, [(shop["coffee"], 1)], note="kurang manis")

    assert "Catatan: kurang manis" in _text(client.get(response["Location"]).content.decode())
    link = client.get(_url(shop, "counter:receipt_whatsapp", key=key))["Location"]
    assert "Catatan: kurang manis" in parse_qs(urlparse(link).query)["text"][0]


def test_the_counter_speaks_english_when_asked(shop):
    client = _client(shop["merchant"])
    client.cookies["django_language"] = "en"
    key = _serve(client, shop)

    html = _text(client.get(_url(shop)).content.decode())
    refused = _text(_pay(client, shop, key, [(shop["rice"], 2)], method="tab").content.decode())

    assert (
        "The usual?" in html and "Pay and record" in html and "3 weeks since the last visit" in html
    )
    assert "Over the tab limit: only Rp 50.000 can still go on the tab." in refused
    assert "Offer Es Kopi Susu as usual" in html


def test_the_screen_and_the_card_take_few_queries(shop, django_assert_max_num_queries):
    client = _client(shop["merchant"])
    _serve(client, shop)

    with django_assert_max_num_queries(25):
        assert client.get(_url(shop)).status_code == 200


def test_a_paid_basket_changed_after_going_back_is_not_taken_for_the_old_sale(shop):
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    _pay(client, shop, key, [(shop["coffee"], 1)])

    response = _pay(client, shop, key, [(shop["coffee"], 1), (shop["tea"], 1)])

    assert response.status_code == 409
    html = response.content.decode()
    assert "Keranjang ini sudah dibayar." in html
    new_key = _key(html)
    assert new_key != key
    again = _pay(client, shop, new_key, [(shop["coffee"], 1), (shop["tea"], 1)])
    assert again.status_code == 302
    assert Transaction.objects.count() == 2


def test_most_points_below_the_programs_minimum_says_so(shop):
    from langganan.loyalty.models import Program

    Program.objects.filter(merchant=shop["merchant"]).update(min_points_to_redeem=600)
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    html = client.post(
        _url(shop),
        {
            "key": key,
            "customer": shop["customer"].pk,
            "add": str(shop["coffee"].pk),
            "points_max": "1",
        },
    ).content.decode()

    assert "Poin belum cukup untuk dipakai (minimal 600)." in html


def test_a_served_customer_who_is_gone_leaves_the_counter_usable(shop):
    client = _client(shop["merchant"])
    _serve(client, shop)
    gone = CustomerFactory(merchant=shop["merchant"], full_name="Sementara")
    session = client.session
    session[f"serving:{shop['merchant'].pk}"] = gone.pk
    session.save()
    gone.delete()

    response = client.get(_url(shop), follow=True)

    assert response.status_code == 200
    assert "pembeli umum" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ledger_cleanup")
def test_the_same_basket_sent_twice_at_once_records_one_sale(shop):
    """Two taps whose requests overlap (real threads): one sale, both answered its receipt."""
    import threading

    from django.db import connection

    client = _client(shop["merchant"])
    key = _serve(client, shop)
    answers = []

    def tap():
        try:
            answers.append(_pay(client, shop, key, [(shop["coffee"], 1)], points="50"))
        finally:
            connection.close()

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for t in taps:
        t.start()
    for t in taps:
        t.join()

    assert [a.status_code for a in answers] == [302, 302]
    assert {a["Location"] for a in answers} == {_url(shop, "counter:receipt", key=key)}
    assert Transaction.objects.count() == 1


def test_finding_a_customer_at_the_counter_is_in_the_audit_log_without_the_number(shop):
    from langganan.privacy.models import AuditEvent

    client = _client(shop["merchant"])
    _serve(client, shop)

    events = AuditEvent.objects.filter(
        merchant=shop["merchant"], action__in=["customer.search", "customer.view"]
    )
    assert sorted(events.values_list("action", flat=True)) == ["customer.search", "customer.view"]
    assert "7890" not in str(list(events.values_list("detail", flat=True)))
