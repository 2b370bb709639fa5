import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C before the command has started: one line, as for any other interrupt
    print("avsc-sk: error: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
