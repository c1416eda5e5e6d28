from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from evaluation.urls import listener_patterns, research_patterns
from evaluation.views.health import healthz
from evaluation.views.language import not_found, server_error

urlpatterns = [
    path("", lambda request: redirect("admin:index")),
    # Browsers ask for /favicon.ico on pages that name none (the admin, audio responses).
    path("favicon.ico", lambda request: redirect(static("earshot/favicon.svg"), permanent=True)),
    # Load balancers and monitors: database, broker and media storage (docs/deploy.md);
    # config.middleware.HealthzMiddleware answers it first, whatever the Host header.
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include(("evaluation.api.urls", "api"))),
    path("p/", include(listener_patterns)),
    path("studies/", include(research_patterns)),
    # The language switcher (a CSRF-protected POST that sets the language cookie) and the
    # listener pages' JavaScript strings (window.gettext), docs/i18n.md.
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/js/", JavaScriptCatalog.as_view(domain="djangojs"), name="javascript-catalog"),
]

# Any unknown URL (a mistyped invite link above all) gets a page in the reader's language.
handler404 = not_found
# A failure on our side: a page in the reader's language that retries a page load by itself.
handler500 = server_error
