"""GET /healthz for load balancers and monitors: 200 when database, broker and media storage
all answer, 503 naming the failing check otherwise (docs/deploy.md)."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from evaluation.services.health import health_check


@never_cache
@require_safe
def healthz(request):
    report = health_check()
    failing = [name for name, check in report["checks"].items() if not check["ok"]]
    body = {"status": "ok" if not failing else "failing", "failing": failing, **report}
    return JsonResponse(body, status=200 if not failing else 503)
