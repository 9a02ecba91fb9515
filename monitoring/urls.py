from django.urls import path

from monitoring import views

# Not namespaced: "home" is used project-wide.
urlpatterns = [
    path("", views.home, name="home"),
]
