"""``python -m stack start|stop --dir DIR``: real Keystone + Swift on loopback."""

from __future__ import annotations

import argparse
import time

from stack import start, stop


def main() -> None:
    """Start or stop the services."""
    parser = argparse.ArgumentParser(prog="python -m stack")
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--dir", default=".services")
    parser.add_argument("--token-expiration", type=int, default=3600, help="Keystone token lifetime in seconds")
    args = parser.parse_args()
    if args.command == "stop":
        stop(args.dir)
        print(f"stopped the services in {args.dir}")
        return
    began = time.monotonic()
    info = start(args.dir, token_expiration=args.token_expiration)
    print(f"Keystone {info.auth_url}  Swift {info.proxy_url}  (started in {time.monotonic() - began:.1f} s)")
    print(f"users: {', '.join(f'{u.username}@{u.project}' for u in info.users)}")
    print(f"settings for the first user: {args.dir}/credentials.env (copy it to .env to use real Swift)")


if __name__ == "__main__":
    main()
