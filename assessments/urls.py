from django.urls import path

from assessments import live, safety_views, views

app_name = "assessments"

urlpatterns = [
    path("status/", views.record_status, name="status"),
    path("live/<str:form_code>/", live.live_scores, name="live"),
    path("blank/<str:code>/", views.blank_forms, name="blank_forms"),
    path("<str:study_id>/records/<str:kind>/", views.patient_records, name="records"),
    path("<str:study_id>/records/ae/<int:pk>/edit/", safety_views.ae_edit, name="ae_edit"),
    path("<str:study_id>/records/ae/<int:pk>/history/", safety_views.ae_history, name="ae_history"),
    path(
        "<str:study_id>/records/ae/<int:pk>/acknowledge/",
        safety_views.ae_acknowledge,
        name="ae_acknowledge",
    ),
    path(
        "<str:study_id>/<str:code>/hdrs/suicide-review/",
        safety_views.suicide_item_review,
        name="suicide_review",
    ),
    path("<str:study_id>/<str:code>/", views.visit_detail, name="visit"),
    path("<str:study_id>/<str:code>/<str:form_code>/", views.crf_edit, name="crf"),
    path(
        "<str:study_id>/<str:code>/<str:form_code>/history/", views.crf_history, name="crf_history"
    ),
]
