from django.urls import path

from guanxi.engagement import care_views, email_views, views

app_name = "engagement"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("activities/", views.activities, name="activities"),
    path("customers/<int:customer_id>/activities/new/", views.activity_new, name="activity_new"),
    path("customers/<int:customer_id>/email/", email_views.compose, name="email_compose"),
    path("customers/<int:customer_id>/email/preview/", email_views.compose_preview, name="email_preview"),
    path("care-rules/", care_views.rule_list, name="care_rules"),
    path("care-rules/new/", care_views.rule_new, name="care_rule_new"),
    path("care-rules/<int:rule_id>/", care_views.rule_detail, name="care_rule"),
    path("care-rules/<int:rule_id>/edit/", care_views.rule_edit, name="care_rule_edit"),
    path("care-rules/<int:rule_id>/toggle/", care_views.rule_toggle, name="care_rule_toggle"),
    path("care-rules/<int:rule_id>/delete/", care_views.rule_delete, name="care_rule_delete"),
    path("templates/", email_views.template_list, name="templates"),
    path("templates/new/", email_views.template_new, name="template_new"),
    path("templates/preview/", email_views.template_preview, name="template_preview"),
    path("templates/<int:template_id>/", email_views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/delete/", email_views.template_delete, name="template_delete"),
]
