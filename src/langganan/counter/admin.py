"""The counter's tables in the Django admin (support staff, ``is_staff``)."""

from django.contrib import admin

from .models import MemberSignup, SignupAttempt, SignupLink


@admin.register(SignupLink)
class SignupLinkAdmin(admin.ModelAdmin):
    """An outlet's sign-up link: switch it off here (the page becomes a 404); a new token is
    made on the poster page ("Tautan baru")."""

    list_display = ("outlet", "merchant", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("outlet__name", "outlet__code", "merchant__name")
    readonly_fields = ("merchant", "outlet", "token", "created_at")


@admin.register(SignupAttempt)
class SignupAttemptAdmin(admin.ModelAdmin):
    list_display = ("link", "address", "at")
    search_fields = ("address",)
    readonly_fields = ("link", "address", "at")


@admin.register(MemberSignup)
class MemberSignupAdmin(admin.ModelAdmin):
    list_display = ("customer", "merchant", "outlet", "staff", "source", "at")
    list_filter = ("source",)
    readonly_fields = ("merchant", "customer", "outlet", "staff", "source", "at")

    def has_add_permission(self, request) -> bool:
        return False
