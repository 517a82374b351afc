from django.http import HttpRequest
from django.templatetags.static import static


def stylesheet(request: HttpRequest) -> str:
    """The cabinet's own styles beside the theme's (the theme ships only the classes it uses)."""
    return static("cabinet/cabinet.css")


def moments_stylesheet(request: HttpRequest) -> str:
    return static("core/moments.css")


def moments_script(request: HttpRequest) -> str:
    """The date boxes' calendar button (core.moments), in any form of any page."""
    return static("core/moments.js")
