from django.urls import include, path

from guanxi.api.urls import api
from guanxi.marketing.public_views import public_form

urlpatterns = [
    path("api/v1/", api.urls),
    path("pool/", include("guanxi.customers.urls")),
    path("engagement/", include("guanxi.engagement.urls")),
    path("f/<str:token>/", public_form, name="webform_public"),
    path("settings/web-forms/", include("guanxi.marketing.urls")),
    path("", include("guanxi.web.urls")),
]
