from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from evaluation.api.views import JobViewSet, ResponsesCsvView, StudyViewSet

router = DefaultRouter(trailing_slash=True)
router.register("studies", StudyViewSet, basename="study")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Researchers only (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]); the split view serves its
    # script from a URL, as the Content-Security-Policy allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    path(
        "studies/<slug:slug>/responses.csv",
        ResponsesCsvView.as_view(),
        name="study-responses-csv",
    ),
    path("", include(router.urls)),
]
