"""R28: images come from an allowed registry, with an explicit tag or digest, never `latest`
(mutable tags make rollbacks and incident forensics guesswork; unknown registries bypass the
platform's scanning, R26)."""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    cel,
    images,
    validating_policy,
    validation,
    variable,
)
from substrate.components.core.validators import IMAGE_LATEST_PATTERN, IMAGE_TAG_PATTERN

NAME = "restrict-images"
RULE = "R28"


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Allowed registries, pinned tags, no latest",
        subject="Pod",
        description="Every container image (including init and ephemeral containers) starts with "
        "an allowed registry prefix and carries a tag or digest other than latest.",
        # A pod's images are its one mutable field this policy reads (kubectl set image).
        pod_update_changes=f"{images('object.spec')} != {images('oldObject.spec')}",
        variables=[
            variable("images", images("object.spec")),
            variable("registries", cel(sorted(settings.allowed_registries))),
            variable(
                "untagged",
                "variables.images.filter(i, !i.contains('@') && "
                f"!i.matches('{IMAGE_TAG_PATTERN}'))",
            ),
            variable("latest", f"variables.images.filter(i, i.matches('{IMAGE_LATEST_PATTERN}'))"),
            variable(
                "foreign",
                "variables.images.filter(i, !variables.registries"
                ".exists(r, i.startsWith(r + '/')))",
            ),
        ],
        validations=[
            validation(
                "size(variables.untagged) == 0",
                "Images need an explicit tag or digest.",
                "'images without a tag or digest: ' + variables.untagged.join(', ')",
            ),
            validation(
                "size(variables.latest) == 0",
                "The mutable 'latest' tag is not allowed.",
                "'images using the latest tag: ' + variables.latest.join(', ')",
            ),
            validation(
                "size(variables.foreign) == 0",
                "Images must come from an allowed registry.",
                "'images outside the allowed registries (' + variables.registries.join(', ') + "
                "'): ' + variables.foreign.join(', ')",
            ),
        ],
    )
