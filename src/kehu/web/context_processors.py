from django.http import HttpRequest

from kehu import __version__


def shell(request: HttpRequest) -> dict:
    return {"kehu_version": __version__}
