"""Serving the emulator on a real socket: in a thread for tests and notebooks, or for the CLI."""

import logging

from werkzeug.serving import WSGIRequestHandler, make_server

from .core import Emulator


class QuietHandler(WSGIRequestHandler):
    """No access log: werkzeug's lines would land in notebook cells and break nbval.

    HTTP/1.1 keeps connections alive as LINE's servers do, so a client's connection pool is
    reused instead of opening a connection (and a server thread) per request.
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):
        pass

    def log(self, type, message, *args):  # noqa: A002 - werkzeug's signature
        if type == "error":
            logging.getLogger("line_emulator").debug(message, *args)


class EmulatorServer:
    """An :class:`Emulator` served on ``host:port`` (port 0 picks a free one).

    >>> with EmulatorServer(Emulator(seed=1)) as server:   # doctest: +SKIP
    ...     server.base_url
    'http://127.0.0.1:54321'
    """

    def __init__(self, emulator=None, host="127.0.0.1", port=0, **emulator_options):
        self.emulator = emulator or Emulator(**emulator_options)
        self._server = make_server(host, port, self.emulator.app, threaded=True,
                                   request_handler=QuietHandler)
        self.host = host
        self.port = self._server.server_port
        self._thread = None

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        import threading

        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="line-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever(poll_interval=0.2)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self.emulator.webhooks.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def info(self):
        """The JSON the CLI prints: base URL, channel ids, secrets, tokens, LIFF id."""
        return self.emulator.config.public(self.base_url)

    def messaging_configuration(self):
        """A ``linebot.v3.messaging.Configuration`` aimed at this emulator."""
        from linebot.v3.messaging import Configuration

        return Configuration(host=self.base_url, access_token=self.emulator.config.access_token)


def start_emulator(**options):
    """Start an emulator in a background thread on 127.0.0.1 and a free port."""
    return EmulatorServer(**options).start()
