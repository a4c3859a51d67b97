"""Credit pages: accountability. `urlpatterns` is included by credit/urls.py."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
