from __future__ import annotations

from django.urls import path

from analysis.exports import views

urlpatterns = [
    path("export/", views.export_page, name="export"),
]
