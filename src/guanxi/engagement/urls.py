from django.urls import path

from guanxi.engagement import views

app_name = "engagement"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("activities/", views.activities, name="activities"),
    path("customers/<int:customer_id>/activities/new/", views.activity_new, name="activity_new"),
]
