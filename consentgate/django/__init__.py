"""consentgate for Django: an app, a middleware, the endpoint's URLs and template tags.

.. code-block:: python

    INSTALLED_APPS = [..., "consentgate.django"]
    MIDDLEWARE = ["consentgate.django.middleware.ConsentGateMiddleware", ...]
    CONSENTGATE = {"categories": [{"name": "necessary", "required": True},
                                  {"name": "analytics", "trackers": ["google-analytics"]}]}
    # urls.py
    urlpatterns = [path("", include("consentgate.django.urls")), ...]

The settings are the TOML file's keys (:mod:`consentgate.django.conf`); the
middleware (:mod:`consentgate.django.middleware`) drives the same core as the WSGI
and ASGI middlewares, under WSGI and ASGI Django alike.
"""
