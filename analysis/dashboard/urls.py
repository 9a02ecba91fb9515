from __future__ import annotations

from django.urls import path

from analysis.dashboard import views

urlpatterns = [
    path("", views.dashboard, name="overview"),
    path("results.json", views.results_json, name="results_json"),
    path("figures/<str:name>.svg", views.figure_file, name="figure"),
    path("figures/<str:name>.png", views.figure_file, {"fmt": "png"}, name="figure_png"),
    path("tables/<str:name>.csv", views.table_csv, name="table"),
    path("<str:page>/", views.dashboard, name="page"),  # last: it matches any page name
]
