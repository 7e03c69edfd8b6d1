"""R29: pods never run in the `default` namespace, and a pod that uses the namespace's
`default` service account does not mount its token (CKV_K8S_38/41/21, CIS 4.1.5/4.1.6/4.5.2).

A workload that talks to the Kubernetes API gets its own service account (and, for AWS, its own
Pod Identity role); everything else runs without an API token.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    validating_policy,
    validation,
    variable,
)

NAME = "service-account-token"
RULE = "R29"


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="No default namespace, no token for the default service account",
        subject="Pod",
        description="Pods are not created in the default namespace; pods on the default "
        "service account set automountServiceAccountToken: false.",
        variables=[
            variable("serviceAccount", "object.spec.?serviceAccountName.orValue('default')"),
            variable("automount", "object.spec.?automountServiceAccountToken.orValue(true)"),
        ],
        validations=[
            validation(
                "object.metadata.?namespace.orValue(request.namespace) != 'default'",
                "Pods do not run in the default namespace; use a tenant namespace.",
                "'pods do not run in the default namespace (pod ' + "
                "object.metadata.?name.orValue('') + ')'",
            ),
            validation(
                "variables.serviceAccount != 'default' || variables.automount == false",
                "Pods on the default service account set automountServiceAccountToken: false; "
                "give a workload that needs the API its own service account.",
                "'pod uses the default service account with its API token mounted; set "
                "automountServiceAccountToken: false or a dedicated serviceAccountName'",
            ),
        ],
    )
