"""Host the fixture's components as a Pulumi provider plugin named `fixture`."""

from greeter import Greeter
from pulumi.provider.experimental import component_provider_host

if __name__ == "__main__":
    component_provider_host([Greeter], name="fixture")
