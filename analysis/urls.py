from django.urls import path

from analysis import export_views, views

app_name = "analysis"

urlpatterns = [
    path("", views.dashboard, name="overview"),
    path("export/", export_views.export_page, name="export"),
    path("results.json", views.results_json, name="results_json"),
    path("figures/<str:name>.svg", views.figure_svg, name="figure"),
    path("tables/<str:name>.csv", views.table_csv, name="table"),
    path("<str:page>/", views.dashboard, name="page"),
]
