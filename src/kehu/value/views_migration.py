"""Value pages: how customers move between classes from one snapshot to the next (§4.3).
`urlpatterns` is included by value/urls.py."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
