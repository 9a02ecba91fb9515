from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("screening/", views.screening_list, name="screening_list"),
    path("screening/new/", views.screening_new, name="screening_new"),
    path("screening/<int:pk>/enrol/", views.enrol, name="enrol"),
    path("allocation/", views.allocation_list, name="allocation"),
    path("<str:study_id>/", views.patient_detail, name="detail"),
    path("<str:study_id>/history/", views.patient_history, name="history"),
    path("<str:study_id>/baseline-b12/", views.baseline_b12, name="baseline_b12"),
    path("<str:study_id>/randomise/", views.randomise, name="randomise"),
    path("<str:study_id>/withdraw/", views.withdraw, name="withdraw"),
]
