"""A tiny application."""

import sys


def greet(name):
    return "Hello, " + name


def parse(argv):
    if len(argv) < 2:
        return "world"
    return argv[1]


def shout(text):
    return text.upper()


def main():
    name = parse(sys.argv)
    print(greet(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
