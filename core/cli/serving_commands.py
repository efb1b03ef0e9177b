"""The `serve` command: the HTTP API (core/serving) on uvicorn, one model loaded once."""

import os
import sys


def serve_command(args) -> int:
    from core.serving.limits import TOKEN_VARIABLE, Limits, check_binding

    token = os.environ.get(TOKEN_VARIABLE) or None
    check_binding(args.host, token)  # before the model loads: a refusal is at once
    limits = Limits(max_body_bytes=max(1, int(args.max_body_mb * 2**20)), max_in_flight=args.max_in_flight,
                    request_seconds=args.timeout, idle_seconds=args.idle_timeout)  # each above 0, by the parser

    import uvicorn

    from core.prediction.pictures import FacePredictor
    from core.serving.app import create_app

    predictor = FacePredictor(args.model).warm_up()
    app = create_app(predictor, limits, token, tuple(args.cors_origin), args.workers or min(4, os.cpu_count() or 1),
                     args.batch_wait_ms / 1000)
    print(f"{args.model}: {len(predictor.classes)} classes on {predictor.runtime}; docs at /docs"
          + ("" if token else " (no token: this machine only)"), file=sys.stderr, flush=True)
    # On SIGTERM or Ctrl-C uvicorn stops listening and lets the requests in flight finish (up to their time limit).
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, timeout_graceful_shutdown=args.timeout + 5)
    return 0
