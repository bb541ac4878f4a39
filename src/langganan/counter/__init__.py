"""Kasir: the counter screen for merchants without a POS (issue 16).

Find the regular, "yang biasa?", record the sale, points, vouchers and the tab (kasbon), enrol a
member, self sign-up by QR, the open tabs and the end-of-day summary. Every page here goes
through the existing services (checkout, ledger, consent) and is wrapped in
:func:`langganan.web.access.merchant_view` with a rule in :mod:`langganan.web.permissions`.
"""
