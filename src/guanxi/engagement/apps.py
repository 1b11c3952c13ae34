from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "guanxi.engagement"
    label = "engagement"
    verbose_name = _("Engagement")

    def ready(self) -> None:
        from guanxi.core.events import subscribe
        from guanxi.customers.timeline import register_timeline_source
        from guanxi.engagement import periodic  # noqa: F401  (registers the periodic jobs)
        from guanxi.engagement.notifications import on_pool_reclaim_warning
        from guanxi.engagement.selectors import activity_timeline_source

        register_timeline_source("activity", activity_timeline_source)
        subscribe("pool.reclaim_warning", on_pool_reclaim_warning)
