"""The example's URLs: its pages, the admin and consentgate's endpoint."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("analytics/", views.analytics, name="analytics"),
    path("privacy/", views.privacy, name="privacy"),
    path("stream/", views.stream, name="stream"),
    path("admin/", admin.site.urls),
    path("", include("consentgate.django.urls")),
]
