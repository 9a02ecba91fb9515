from django.urls import path

from patients import views

# Not namespaced: the names are used project-wide ({% url "site_history" %}).
urlpatterns = [
    path("<str:code>/history/", views.site_history, name="site_history"),
]
