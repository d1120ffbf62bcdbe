"""The product's URLs plus the benchmark's baseline: a bare view returning a constant."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from civicmark.config.urls import urlpatterns as product


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *product]
