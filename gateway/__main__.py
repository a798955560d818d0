"""`python -m gateway [serve|migrate]`."""

from __future__ import annotations

import argparse

import uvicorn
from asgi_correlation_id import correlation_id

from gateway import cli
from gateway.app import create_app
from gateway.migrate import upgrade
from gateway.settings import GatewaySettings
from gateway.shutdown import DrainingServer, exit_cleanly_on_sigterm
from parley_contract.logging import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the HTTP API (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("migrate", help="apply database migrations and create the default tenant")
    cli.add_commands(sub)
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    configure_logging(
        json_lines=settings.log_json, log_content=settings.log_content, request_id_source=correlation_id.get
    )
    if args.command == "migrate":
        upgrade(settings)
        return
    if args.command in ("tenants", "keys"):
        raise SystemExit(cli.run(args, settings))
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=getattr(args, "host", None) or settings.host,
        port=getattr(args, "port", None) or settings.port,
        log_level="info",
        log_config=None,  # keep the handler configure_logging installed (JSON, request id, redaction)
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    exit_cleanly_on_sigterm()
    DrainingServer(config, draining=app.state.draining).run()


if __name__ == "__main__":
    main()
