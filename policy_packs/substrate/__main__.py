"""Entry point the Pulumi CLI runs for `--policy-pack policy_packs/substrate`.

Only builds the PolicyPack: constructing it starts the analyzer's gRPC server and blocks, so
nothing else may import this module. The policies live in `substrate.policies`.
"""

import sys
from pathlib import Path

# The policies share validators with the components (substrate.components.core.validators); make the
# project importable when the CLI runs this directory as a script.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import EnforcementLevel, PolicyPack

from substrate.policies import POLICIES

PolicyPack(
    name="substrate",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
