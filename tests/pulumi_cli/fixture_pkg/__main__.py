"""Host the fixture's components as a Pulumi provider plugin named `fixture`."""

from pulumi.provider.experimental import component_provider_host

from greeter import Greeter

if __name__ == "__main__":
    component_provider_host([Greeter], name="fixture")
