from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from evaluation.api.views import JobViewSet, ResponsesCsvView, StudyViewSet

router = DefaultRouter(trailing_slash=True)
router.register("studies", StudyViewSet, basename="study")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "studies/<slug:slug>/responses.csv",
        ResponsesCsvView.as_view(),
        name="study-responses-csv",
    ),
    path("", include(router.urls)),
]
