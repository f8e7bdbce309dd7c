"""A local AWS endpoint for acceptance tests: moto plus a small patch layer.

`build_app()` returns the WSGI app; `python -m standin` serves it. The
patches only change behaviour moto gets wrong for this product, each one as
the AWS EC2 documentation describes it (see README.md and tests/).
"""

from __future__ import annotations

import os

# No preloaded public AMIs: tests see only what they create, and reset stays cheap.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
# Unknown regions still get a backend instead of an error ("any region").
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

_installed = False


def install_patches() -> None:
    global _installed
    if _installed:
        return
    from . import (
        consistency,
        deprecation,
        ec2_copy,
        ec2_describe,
        ec2_fixes,
        images,
        kms_api,
        launch_templates,
        lifecycle,
        protection,
        tag_lookup,
        time_based,
    )

    images.install()
    lifecycle.install()
    ec2_describe.install()
    ec2_copy.install()
    ec2_fixes.install()
    deprecation.install()
    protection.install()
    time_based.install()
    launch_templates.install()
    kms_api.install()
    tag_lookup.install()
    consistency.install()  # last: it wraps the layer's own versions of some actions
    _installed = True


def build_app(options=None):
    """The WSGI app; `options` (options.Options) are the start-up flags."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    from . import options as startup
    from . import state
    from .app import StandinApp

    startup.configure(options or startup.Options())
    state.reset()  # the starting copy duration and the random draws' seed come from the options
    install_patches()
    if startup.CURRENT.strict:
        from . import strict

        strict.install()
    return StandinApp(DomainDispatcherApplication(create_backend_app), startup.CURRENT)
