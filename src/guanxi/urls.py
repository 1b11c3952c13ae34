from django.urls import include, path

from guanxi.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("pool/", include("guanxi.customers.urls")),
    path("engagement/", include("guanxi.engagement.urls")),
    path("", include("guanxi.web.urls")),
]
