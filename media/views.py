from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from media import selectors, services
from media.models import MediaStatus
from media.serializers import AvatarSetSerializer, MediaSerializer, MediaUploadSerializer, media_representation
from server.api.exceptions import NotFound
from server.api.schema import ErrorSerializer
from server.api.throttling import ScopedUserThrottle, UploadThrottle, UserRateThrottle
from server.api.views import APIView

# Multipart framing around the file: generous, so only real oversize is refused early.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Variant files never change under a URL (a new rendering gets a new name), so a phone
# may keep them for a year. `private`: shared caches must not hold authorised content.
IMMUTABLE_CACHE = "private, max-age=31536000, immutable"


class MediaUploadView(APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [UserRateThrottle, UploadThrottle]

    @extend_schema(
        request={"multipart/form-data": MediaUploadSerializer},
        responses={
            201: MediaSerializer,
            400: OpenApiResponse(response=ErrorSerializer, description="Too many pixels (`too_many_pixels`) or no file."),
            413: OpenApiResponse(response=ErrorSerializer, description="Larger than the upload limit (`too_large`)."),
            415: OpenApiResponse(response=ErrorSerializer, description="Not an accepted image format (`unsupported_media_type`)."),
            503: OpenApiResponse(
                response=ErrorSerializer,
                description="The file storage failed (`storage_unavailable`): nothing was stored; retry after `Retry-After` seconds.",
            ),
            507: OpenApiResponse(
                response=ErrorSerializer, description="The file storage is full (`storage_full`): nothing was stored; try again later."
            ),
        },
        operation_id="media_upload",
        tags=["media"],
    )
    def post(self, request):
        # Before the body is parsed: an oversize upload is refused without touching it.
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.MEDIA_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise services.upload_too_large()
        data = MediaUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        media = services.media_upload(owner=request.user, upload=data.validated_data["file"])
        # Embedded mode processes on commit, so the answer may already be `ready`.
        media.refresh_from_db()
        return Response(media_representation(media), status=status.HTTP_201_CREATED)


class MediaDetailView(APIView):
    @extend_schema(responses={200: MediaSerializer}, operation_id="media_retrieve", tags=["media"])
    def get(self, request, media_id: int):
        return Response(media_representation(selectors.access_media(user=request.user, media_id=media_id)))


def _variant_schema(operation_id: str):
    return extend_schema(
        responses={
            (200, "image/webp"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="Only with S3 and MEDIA_SERVE_REDIRECT: a presigned URL valid for minutes."),
            304: OpenApiResponse(description="`If-None-Match` matched: keep your copy."),
            404: OpenApiResponse(
                response=ErrorSerializer,
                description=(
                    "`not_found`; or `not_ready` while the photo is `processing` (right after the upload: "
                    "`Retry-After: 1`, or wait for the `media.ready` event) or when it `failed`."
                ),
            ),
        },
        operation_id=operation_id,
        tags=["media"],
    )


class MediaReadThrottle(ScopedUserThrottle):
    scope = "media_reads"


class MediaVariantView(APIView):
    """Serves one stored variant after the same visibility check as the JSON view."""

    variant = "large"
    throttle_classes = [MediaReadThrottle]

    def perform_content_negotiation(self, request, force=False):
        # Image loaders send `Accept: image/*`; the JSON renderer still writes any error.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, media_id: int):
        media = selectors.access_media(user=request.user, media_id=media_id)
        if media.status != MediaStatus.READY:
            # Documented (issue #25 item 5): wait for `media.ready`, or try again in a second.
            raise NotFound(code="not_ready", headers={"Retry-After": "1"} if media.status == MediaStatus.PROCESSING else None)
        path = media.variant_path(self.variant)
        etag = f'"{path.rsplit("/", 1)[-1]}"'
        if request.headers.get("If-None-Match") == etag:
            response: HttpResponse = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        elif settings.MEDIA_SERVE_REDIRECT:
            response = HttpResponseRedirect(default_storage.url(path))
            # The presigned URL expires; the redirect must not outlive it.
            response["Cache-Control"] = "private, max-age=60"
            return response
        else:
            # Variants are small (tens of KB): read whole rather than stream, which under ASGI
            # would be a sync iterator Django has to drain in a thread anyway.
            try:
                with default_storage.open(path, "rb") as variant:
                    response = HttpResponse(variant.read(), content_type=media.content_type)
            except FileNotFoundError:
                raise NotFound()
        response["Cache-Control"] = IMMUTABLE_CACHE
        response["ETag"] = etag
        response["X-Content-Type-Options"] = "nosniff"
        return response


class MediaThumbnailView(MediaVariantView):
    variant = "thumbnail"

    @_variant_schema("media_thumbnail")
    def get(self, request, media_id: int):
        return super().get(request, media_id)


class MediaLargeView(MediaVariantView):
    variant = "large"

    @_variant_schema("media_large")
    def get(self, request, media_id: int):
        return super().get(request, media_id)


class AvatarView(APIView):
    @extend_schema(request=AvatarSetSerializer, responses={200: MediaSerializer}, operation_id="me_avatar_set", tags=["people"])
    def post(self, request):
        data = AvatarSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        media = services.avatar_set(user=request.user, media_id=data.validated_data["media_id"])
        return Response(media_representation(media))

    @extend_schema(request=None, responses={204: None}, operation_id="me_avatar_remove", tags=["people"])
    def delete(self, request):
        services.avatar_remove(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
