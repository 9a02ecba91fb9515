from django.urls import path

from monitoring import pages

# Not namespaced: "home" is used project-wide.
urlpatterns = [path("", pages.home, name="home")]
