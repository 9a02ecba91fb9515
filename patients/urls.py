from django.urls import path

from patients import views

app_name = "patients"

# The patient list and page compose several apps: monitoring/patient_urls.py.
urlpatterns = [
    path("screening/", views.screening_list, name="screening_list"),
    path("screening/new/", views.screening_new, name="screening_new"),
    path("screening/<int:pk>/enrol/", views.enrol, name="enrol"),
    path("<str:study_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:study_id>/identity/", views.identity_add, name="identity_add"),
]
