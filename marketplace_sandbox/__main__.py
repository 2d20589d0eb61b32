"""``python -m marketplace_sandbox --port 8900 --skus 200 --seed 1 --faults '' --profile real``"""

from __future__ import annotations

import argparse

import uvicorn

from marketplace_sandbox.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="marketplace_sandbox", description="Ozon, Wildberries, Wix and Haier APIs on one loopback port."
    )
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--skus", type=int, default=200, help="seller articles in the catalogue")
    parser.add_argument("--seed", type=int, default=1, help="seed of the catalogue, stock, sales and faults")
    parser.add_argument("--faults", default="", help="fault spec, e.g. '429=0.1,500=0.05' (see faults.py)")
    parser.add_argument(
        "--profile",
        choices=["real", "fast"],
        default="real",
        help="real: the services' rate limits; fast: none (benchmarks)",
    )
    parser.add_argument(
        "--wix-in-sync",
        action="store_true",
        help="Wix starts as a store a pipeline already keeps in step (the demo, make ui); "
        "without it Wix starts far off, as a store never pushed to",
    )
    args = parser.parse_args(argv)
    if args.skus < 1:
        parser.error("--skus must be at least 1")
    try:
        app = create_app(
            skus=args.skus, seed=args.seed, faults=args.faults, profile=args.profile, wix_in_sync=args.wix_in_sync
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"marketplace_sandbox: {args.skus} SKUs, seed {args.seed}, profile {args.profile} "
        f"on http://{args.host}:{args.port} (accounts: /_sandbox/accounts)",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
