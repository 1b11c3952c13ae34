from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class MarketingConfig(AppConfig):
    name = "guanxi.marketing"
    label = "marketing"
    verbose_name = pgettext_lazy("module", "Marketing")
