"""Reads for lists of studies: the per-study counts a list shows, in the list's own query."""

from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from evaluation.models import Pair, Panelist, Response, Study


def _count_per_study(model: type[Model], study_path: str) -> Coalesce:
    """A subquery counting `model` rows whose `study_path` is the outer study (0 if none)."""
    rows = (
        model.objects.filter(**{study_path: OuterRef("pk")})
        .order_by()
        .values(study_path)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def studies_with_counts(queryset: QuerySet[Study]) -> QuerySet[Study]:
    """`queryset` with ``pair_count``, ``panelist_count`` and ``response_count`` (ints) on
    each study, computed as subqueries of the same SELECT: a list of studies costs one query
    however many rows it shows (joins would multiply the rows counted)."""
    return queryset.annotate(
        pair_count=_count_per_study(Pair, "study"),
        panelist_count=_count_per_study(Panelist, "study"),
        response_count=_count_per_study(Response, "trial__pair__study"),
    )
