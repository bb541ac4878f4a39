from django.contrib import admin

from .models import SignInFailure, SignInLock


@admin.register(SignInLock)
class SignInLockAdmin(admin.ModelAdmin):
    list_display = ("kind", "scope", "value", "created_at", "until", "failures", "lifted_at")
    list_filter = ("kind", "scope")
    search_fields = ("value",)
    readonly_fields = ("kind", "scope", "value", "created_at", "until", "failures")


@admin.register(SignInFailure)
class SignInFailureAdmin(admin.ModelAdmin):
    list_display = ("kind", "username", "address", "at")
    list_filter = ("kind",)
    search_fields = ("username", "address")
