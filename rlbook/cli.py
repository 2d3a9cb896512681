"""The `rlbook` command."""

import argparse
import sys


def _release(args):
    from rlbook.grading import release

    if args.check:
        problems = release.check_release()
        for problem in problems:
            print(f"out of sync: {problem}")
        if problems:
            print("fix: run `make release` and commit notebooks/")
            return 1
        print("notebooks/ is in sync with solutions/")
        return 0
    for path in release.release(only=args.assignment or None):
        print(f"wrote {path}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rlbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser(
        "release", help="regenerate the student notebooks in notebooks/ from solutions/")
    rel.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    rel.add_argument("--check", action="store_true",
                     help="do not write; exit 1 if notebooks/ differs from a fresh release")
    rel.set_defaults(func=_release)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
