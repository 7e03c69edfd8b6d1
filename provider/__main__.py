"""Plugin entry point: `python provider <engine address>` serves Substrate's components."""

from substrate.provider import main

if __name__ == "__main__":
    main()
