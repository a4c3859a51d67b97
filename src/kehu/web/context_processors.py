from django.http import HttpRequest

from kehu import __version__
from kehu.web.navigation import navigation_for


def shell(request: HttpRequest) -> dict:
    return {"kehu_version": __version__, "navigation": navigation_for(request)}
