"""Settings pages of web forms, included at ``settings/web-forms/`` (the public page is ``/f/<token>/``)."""

from django.urls import path

from guanxi.marketing import views

app_name = "marketing"
urlpatterns = [
    path("", views.form_list, name="list"),
    path("new/", views.form_new, name="new"),
    path("<int:form_id>/", views.form_edit, name="edit"),
    path("<int:form_id>/preview/", views.form_preview, name="preview"),
    path("<int:form_id>/submissions/", views.form_submissions, name="submissions"),
    path("<int:form_id>/token/", views.form_regenerate_token, name="regenerate_token"),
    path("<int:form_id>/active/", views.form_set_active, name="set_active"),
    path("<int:form_id>/delete/", views.form_delete, name="delete"),
]
