"""``compliance serve``: the app under uvicorn, with logs that never carry upload data."""

from __future__ import annotations

import logging
import sys

from compliance.service.settings import TOKEN_ENV, Settings, parse_size


def run(*, host: str, port: int, access_log: bool = True, max_upload: str | None = None,
        **limits: object) -> None:
    """Start the service in this process; returns when the server stops (Ctrl-C)."""
    import uvicorn

    from compliance.service.app import create_app

    overrides: dict[str, object] = dict(limits)
    if max_upload is not None:
        overrides["max_upload_bytes"] = parse_size(max_upload)
    settings = Settings.from_env(**overrides)
    _configure_logging(access_log)
    log = logging.getLogger("compliance.service")
    log.info("limits: upload %d bytes, %d rows, %d cells, %gs per request, %d parses at once, "
             "%d waiting (%gs)", settings.max_upload_bytes, settings.max_rows,
             settings.max_cells, settings.request_timeout, settings.max_parses,
             settings.max_queue, settings.queue_timeout)
    log.info("bearer token %s", f"required ({TOKEN_ENV} is set)" if settings.token
             else f"not required ({TOKEN_ENV} is not set)")
    app = create_app(settings)
    uvicorn.run(
        app, host=host, port=port,
        # uvicorn's access log prints the query string; the service logs its own without it.
        access_log=False, server_header=False, proxy_headers=False,
        log_level="info", timeout_graceful_shutdown=int(settings.request_timeout) + 5,
    )


def _configure_logging(access_log: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    service = logging.getLogger("compliance.service")
    service.setLevel(logging.INFO)
    service.addHandler(handler)
    service.propagate = False
    logging.getLogger("compliance.service.access").disabled = not access_log
