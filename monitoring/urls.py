from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("queries/", views.query_list, name="queries"),
    path("queries/<int:pk>/", views.query_detail, name="query"),
    path("patients/<str:study_id>/queries/new/", views.query_raise, name="query_raise"),
    path("patients/<str:study_id>/lock/", views.record_lock, name="lock"),
    path("locks/<int:pk>/unlock/", views.record_unlock, name="unlock"),
    path("patients/<str:study_id>/sign/", views.casebook_sign, name="sign"),
    path("patients/<str:study_id>/<str:code>/sign/", views.casebook_sign, name="sign_visit"),
    path(
        "patients/<str:study_id>/<str:code>/<str:form_code>/verify/",
        views.form_verify,
        name="verify",
    ),
    path("database-lock/", views.study_lock, name="study_lock"),
]
