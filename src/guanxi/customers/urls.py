"""Workspace pages of the public pool (公海), mounted at ``/pool/`` by ``guanxi/urls.py``."""

from django.urls import path

from guanxi.customers import views

app_name = "pool"
urlpatterns = [
    path("", views.pool_page, name="list"),
    path("<int:customer_id>/claim/", views.pool_claim_view, name="claim"),
    path("<int:customer_id>/assign/", views.pool_assign_view, name="assign"),
    path("release/<int:customer_id>/", views.pool_release_view, name="release"),
]
