from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.core.audit import register_audit_scope
        from guanxi.customers import bulk_all, exports, periodic  # noqa: F401  (jobs they register)
        from guanxi.customers.dedupe import services as dedupe_services  # noqa: F401  (scan job)
        from guanxi.customers.imports import search_index, services  # noqa: F401  (import jobs)
        from guanxi.customers.selectors import audit_events_visible

        register_audit_scope(audit_events_visible)
