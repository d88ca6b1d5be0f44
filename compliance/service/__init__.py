"""The upload service: validate and audit workbooks over HTTP, with a web page.

``compliance serve`` runs :func:`create_app` under uvicorn. The service needs the optional
dependencies of the ``service`` extra (``pip install 'battery-compliance[service]'``).
"""

from __future__ import annotations

from compliance.service.app import create_app
from compliance.service.settings import Settings

__all__ = ["Settings", "create_app"]
