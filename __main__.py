"""Entry point for `pulumi up` / `pulumi preview`: see substrate/program.py."""

from substrate.program import main

main()
