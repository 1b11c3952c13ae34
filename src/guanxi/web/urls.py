from django.urls import path

from guanxi.web import admin_views, customer_detail, customer_list, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("i18n/setlang/", views.language_view, name="set_language"),
    path("language/", views.language_view, name="language"),
    path("org/switch/", views.switch_org, name="switch_org"),
    path("search/", views.search, name="search"),
    path("healthz", views.healthz, name="healthz"),
    path("customers/", customer_list.customers, name="customers"),
    path("customers/bulk/", customer_list.customers_bulk, name="customers_bulk"),
    path("customers/columns/", customer_list.customers_columns, name="customers_columns"),
    path("customers/views/", customer_list.saved_view_create, name="saved_view_create"),
    path("customers/views/<int:view_id>/delete/", customer_list.saved_view_delete, name="saved_view_delete"),
    path("customers/new/", customer_detail.customer_create, name="customer_create"),
    path("customers/<int:customer_id>/", customer_detail.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/edit/", customer_detail.customer_edit, name="customer_edit"),
    path("customers/<int:customer_id>/tab/<str:tab>/", customer_detail.customer_tab, name="customer_tab"),
    path("customers/<int:customer_id>/reveal/", customer_detail.customer_reveal, name="customer_reveal"),
    path("customers/<int:customer_id>/delete/", customer_detail.customer_delete, name="customer_delete"),
    path("customers/<int:customer_id>/restore/", customer_detail.customer_restore, name="customer_restore"),
    path("customers/<int:customer_id>/purge/", customer_detail.customer_purge, name="customer_purge"),
    path("customers/<int:customer_id>/contacts/", customer_detail.contact_add, name="contact_add"),
    path(
        "customers/<int:customer_id>/contacts/<int:contact_id>/delete/",
        customer_detail.contact_delete,
        name="contact_delete",
    ),
    path("trash/", customer_list.trash, name="trash"),
    path("contacts/", admin_views.contacts, name="contacts"),
    path("settings/users/", admin_views.settings_users, name="settings_users"),
    path("settings/fields/", admin_views.settings_fields, name="settings_fields"),
    path("settings/tags/", admin_views.settings_tags, name="settings_tags"),
    path("settings/organisation/", admin_views.settings_org, name="settings_org"),
    path("", views.home, name="home"),
]
