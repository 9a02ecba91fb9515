from django.urls import path

from monitoring import views

app_name = "monitoring"

# Under /patients/ (hfs_ecrf/urls.py), after the patients and randomisation URLs.
urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("<str:study_id>/", views.patient_detail, name="patient_detail"),
]
