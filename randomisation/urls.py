from django.urls import path

from randomisation import views

app_name = "randomisation"

# Under /patients/ (hfs_ecrf/urls.py), as before the split into apps.
urlpatterns = [
    path("allocation/", views.allocation_list, name="allocation"),
    path("<str:study_id>/baseline-b12/", views.baseline_b12, name="baseline_b12"),
    path("<str:study_id>/randomise/", views.randomise, name="randomise"),
]
