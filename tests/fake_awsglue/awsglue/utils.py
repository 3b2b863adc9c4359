from __future__ import annotations


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:
    """Like Glue's: every option must be present as `--name value`."""
    resolved: dict[str, str] = {}
    for name in options:
        flag = f"--{name}"
        if flag not in args:
            raise SystemExit(f"error: the following arguments are required: {flag}")
        resolved[name] = args[args.index(flag) + 1]
    return resolved
