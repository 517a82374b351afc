from django.http import HttpRequest
from django.templatetags.static import static


def stylesheet(request: HttpRequest) -> str:
    """The cabinet's own styles beside the theme's (the theme ships only the classes it uses)."""
    return static("cabinet/cabinet.css")
