from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "guanxi.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self) -> None:
        from guanxi.core.events import subscribe
        from guanxi.customers.exports import READY_EVENT
        from guanxi.customers.selection import register_saved_view_lookup
        from guanxi.web import icons, page_cache
        from guanxi.web.export_wiring import notify_export_ready, saved_view_query

        icons.install()
        page_cache.connect()

        register_saved_view_lookup(saved_view_query)
        subscribe(READY_EVENT, notify_export_ready)
