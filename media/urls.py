from django.urls import path

from media import views

urlpatterns = [
    path("media", views.MediaUploadView.as_view(), name="media-upload"),
    path("media/<int:media_id>", views.MediaDetailView.as_view(), name="media-detail"),
    path("media/<int:media_id>/thumbnail", views.MediaThumbnailView.as_view(), name="media-thumbnail"),
    path("media/<int:media_id>/large", views.MediaLargeView.as_view(), name="media-large"),
    path("me/avatar", views.AvatarView.as_view(), name="me-avatar"),
]
