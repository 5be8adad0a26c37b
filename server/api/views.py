"""The base of every API view: DRF's APIView, holding each request to the OpenAPI contract."""

from __future__ import annotations

from rest_framework import views

from server.api.contract import refuse_nul_in_query, refuse_unknown_fields


class APIView(views.APIView):
    """Refuses query parameters and body fields the operation's schema does not list
    (server/api/contract.py), after authentication, permissions and throttles: an
    anonymous caller learns nothing about a route's fields before its 401."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_nul_in_query(request.query_params)
        refuse_unknown_fields(view_class=type(self), method=request.method, query_params=request.query_params, data=request.data)
