"""The project's URLs plus the engagement pages (until the shell includes them in guanxi/urls.py)."""

from django.urls import include, path

from guanxi.urls import urlpatterns as project_urls

urlpatterns = [path("engagement/", include("guanxi.engagement.urls")), *project_urls]
