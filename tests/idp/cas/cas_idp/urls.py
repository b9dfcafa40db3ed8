"""URLs of the test CAS server: django-cas-server under /cas/, plus the CAS 3.0 JSON rendering it lacks.

django-cas-server answers ``/cas/serviceValidate`` and ``/cas/p3/serviceValidate`` in XML only and ignores
``format``. The CAS 3.0 protocol also defines ``format=JSON`` (Apereo CAS answers it); for that parameter alone
these two URLs render django-cas-server's own XML answer as the protocol's JSON, unchanged in substance.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from cas_server import views as cas_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

CAS_NS = "{http://www.yale.edu/tp/cas}"


def _as_json(xml: bytes) -> dict[str, Any]:
    root = ET.fromstring(xml)  # noqa: S314 - the answer of django-cas-server in this very process
    failure = root.find(f"{CAS_NS}authenticationFailure")
    if failure is not None:
        return {
            "serviceResponse": {
                "authenticationFailure": {"code": failure.get("code"), "description": (failure.text or "").strip()}
            }
        }
    success = root.find(f"{CAS_NS}authenticationSuccess")
    if success is None:
        raise ValueError("neither success nor failure")
    body: dict[str, Any] = {"user": (success.findtext(f"{CAS_NS}user") or "").strip()}
    attributes: dict[str, list[str]] = {}
    released = success.find(f"{CAS_NS}attributes")
    for element in released if released is not None else []:
        attributes.setdefault(element.tag.removeprefix(CAS_NS), []).append(element.text or "")
    body["attributes"] = attributes
    pgt = success.findtext(f"{CAS_NS}proxyGrantingTicket")
    if pgt:
        body["proxyGrantingTicket"] = pgt
    proxies = success.find(f"{CAS_NS}proxies")
    if proxies is not None:
        body["proxies"] = [p.text or "" for p in proxies]
    return {"serviceResponse": {"authenticationSuccess": body}}


def _with_json(view: Any) -> Any:
    def validate(request: HttpRequest) -> HttpResponse:
        response: HttpResponse = view(request)
        if request.GET.get("format", "").upper() != "JSON" or response.status_code != 200:
            return response
        return JsonResponse(_as_json(response.content), json_dumps_params={"ensure_ascii": False})

    return validate


service_validate = _with_json(cas_views.ValidateService.as_view(allow_proxy_ticket=False))
proxy_validate = _with_json(cas_views.ValidateService.as_view(allow_proxy_ticket=True))

urlpatterns = [
    path("cas/serviceValidate", service_validate),
    path("cas/proxyValidate", proxy_validate),
    path("cas/p3/serviceValidate", service_validate),
    path("cas/p3/proxyValidate", proxy_validate),
    path("cas/", include("cas_server.urls", namespace="cas_server")),
]
