from django.urls import path

from licentia.releases import views

urlpatterns = [
    path("releases/download/<str:token>", views.download, name="releases-download"),
    path("media/releases/<path:path>", views.media, name="releases-media"),
]
