"""How the server stops: SIGTERM or SIGINT to the main process drains it and ends every child; a dead inference worker
is replaced (LitServe's `restart_workers`).

LitServe's own shutdown path is its shutdown event (what its `/shutdown` endpoint sets): `LitServer.run` then
terminates the HTTP server process and the inference workers and stops its manager. Without a handler, SIGTERM kills
the main process at once and its children live on, still serving the port. Here a signal first stops the HTTP
server the way uvicorn stops on SIGTERM (no new connections; requests in flight finish, for at most DRAIN_S), and only
then sets that event, so an answer being computed is not cut off."""

import logging
import multiprocessing as mp
import os
import signal
import threading

import litserve as ls

DRAIN_S = 10  # seconds requests in flight may take to finish after SIGTERM/SIGINT
HTTP_PROCESS = "LitServer-"  # LitServe's name for its uvicorn process(es)

log = logging.getLogger("strawberry.serving")


def stop_on_signals(server: ls.LitServer, drain_s: float = DRAIN_S) -> None:
    """SIGTERM and SIGINT to this process: drain, then LitServe's shutdown; `run` returns and the process exits 0.
    The HTTP server is given `drain_s` to finish what it was answering."""
    server.uvicorn_graceful_timeout = drain_s  # uvicorn's bound for requests in flight; LitServe joins it as long
    main = os.getpid()
    started = threading.Event()

    def handle(signum: int, _frame) -> None:
        if os.getpid() != main:  # a process forked from this one inherited the handler: end as the signal means
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if started.is_set():
            return
        started.set()
        print(f"scripts.serve: {signal.Signals(signum).name}: draining requests in flight (at most {drain_s:g} s), "
              "then stopping every worker", flush=True)  # fmt: skip
        threading.Thread(target=drain_then_stop, args=(server, drain_s), daemon=True).start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def drain_then_stop(server: ls.LitServer, drain_s: float) -> None:
    """SIGTERM to the HTTP server process (uvicorn closes its socket, finishes the requests in flight and exits),
    then LitServe's shutdown event, which ends the inference workers and the manager."""
    http = [p for p in mp.active_children() if p.name.startswith(HTTP_PROCESS)]
    for process in http:
        process.terminate()
    for process in http:
        process.join(timeout=drain_s + 2)
        if process.is_alive():
            log.warning("%s did not drain in %s s: killing it", process.name, drain_s)
            process.kill()
    server._shutdown_event.set()  # LitServe's own shutdown path (its /shutdown endpoint sets the same event)
