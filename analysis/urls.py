from __future__ import annotations

from analysis.dashboard.urls import urlpatterns as dashboard_urls
from analysis.exports.urls import urlpatterns as export_urls

app_name = "analysis"

# the exports first: the dashboard's last pattern matches any page name
urlpatterns = [*export_urls, *dashboard_urls]
