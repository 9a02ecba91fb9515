from django.urls import path

from monitoring import pages, views

app_name = "monitoring"

# Included last, at the root (hfs_ecrf/urls.py): "patients/<study_id>/" would otherwise match
# "patients/allocation/" and "patients/screening/".
urlpatterns = [
    path("patients/", pages.patient_list, name="patient_list"),
    path("patients/<str:study_id>/", pages.patient_detail, name="patient_detail"),
    path("patients/<str:study_id>/history/", pages.patient_history, name="patient_history"),
    path("monitoring/queries/", views.query_list, name="queries"),
    path("monitoring/queries/<int:pk>/", views.query_detail, name="query"),
    path("monitoring/patients/<str:study_id>/queries/new/", views.query_raise, name="query_raise"),
    path("monitoring/patients/<str:study_id>/lock/", views.record_lock, name="lock"),
    path("monitoring/locks/<int:pk>/unlock/", views.record_unlock, name="unlock"),
    path("monitoring/patients/<str:study_id>/sign/", views.casebook_sign, name="sign"),
    path(
        "monitoring/patients/<str:study_id>/casebook.pdf",
        views.casebook_download,
        name="casebook_pdf",
    ),
    path(
        "monitoring/patients/<str:study_id>/<str:code>/sign/",
        views.casebook_sign,
        name="sign_visit",
    ),
    path(
        "monitoring/patients/<str:study_id>/<str:code>/<str:form_code>/verify/",
        views.form_verify,
        name="verify",
    ),
    path(
        "monitoring/patients/<str:study_id>/<str:code>/<str:form_code>/verify/<str:field_name>/",
        views.field_verify,
        name="verify_field",
    ),
    path("monitoring/database-lock/", views.study_lock, name="study_lock"),
]
