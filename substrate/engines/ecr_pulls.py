"""What AWS authorizes when a node pulls an image from a private Amazon ECR repository.

Sources:
- Amazon ECR User Guide, "Private registry authentication": the client (the kubelet's ECR
  credential provider) gets a registry token with ``ecr:GetAuthorizationToken``, an Amazon ECR
  API call (resource ``*``), which goes to the ``com.amazonaws.<region>.ecr.api`` endpoint.
- Amazon ECR User Guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)": registry
  (Docker) API calls, such as image pulls, go to ``com.amazonaws.<region>.ecr.dkr``; "when your
  containers download images from Amazon ECR, they must access Amazon ECR to get the image
  manifest and then Amazon S3 to download the actual image layers", from
  ``arn:aws:s3:::prod-<region>-starport-layer-bucket``, through the S3 gateway endpoint.
- AWS managed policy ``AmazonEC2ContainerRegistryPullOnly`` ("allows access to pull images"):
  ``ecr:GetAuthorizationToken``, ``ecr:BatchGetImage`` (the manifest) and
  ``ecr:GetDownloadUrlForLayer`` (each layer; ``ecr:BatchImportUpstreamImage`` is for
  pull-through cache only), the last two on the repository ARN
  ``arn:<partition>:ecr:<region>:<account>:repository/<name>`` (Service Authorization
  Reference, Amazon ECR: resource type ``repository``).
- AWS data perimeter guidance for Amazon ECR: ``GetDownloadUrlForLayer`` "returns an Amazon S3
  presigned URL ... created with an Amazon ECR service account identity": the S3 request is
  signed by an AWS-owned account, not the node. AWS does not publish that account; any account
  other than the repository's stands for it (what the endpoint policy decides depends only on
  it not being the stack's account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from substrate.components.cluster.endpoint_policies import ecr_layer_objects
from substrate.engines.iam import Principal

_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(:(?P<tag>[\w][\w.-]{0,127}))?(@sha256:[0-9a-f]{64})?$"
)
LAYER_SIGNER_ACCOUNT = "999999999999"
"""Stands for the AWS-owned ECR account that signs presigned layer URLs (not published)."""


@dataclass(frozen=True)
class Step:
    """One authorization of a pull: who signs it, through which endpoint, for what."""

    endpoint: str
    """Endpoint service suffix: ``ecr.api``, ``ecr.dkr`` or ``s3``."""
    action: str
    resource: str
    signed_by_node: bool
    """False for the layer download (signed by ECR's own account)."""


@dataclass(frozen=True)
class Image:
    account: str
    region: str
    repository: str

    @classmethod
    def parse(cls, reference: str) -> Image:
        match = _IMAGE.match(reference)
        if match is None:
            raise ValueError(f"{reference!r} is not a private Amazon ECR image reference")
        return cls(match["account"], match["region"], match["repository"])

    def repository_arn(self, partition: str) -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


def pull(image: Image, partition: str, layer: str = "sha256/0a1b2c") -> tuple[Step, ...]:
    """The authorizations of pulling ``image`` (one layer, object key ``layer``)."""
    repository = image.repository_arn(partition)
    bucket = ecr_layer_objects(partition, image.region).removesuffix("*")
    return (
        Step("ecr.api", "ecr:GetAuthorizationToken", "*", True),
        Step("ecr.dkr", "ecr:BatchGetImage", repository, True),
        Step("ecr.dkr", "ecr:GetDownloadUrlForLayer", repository, True),
        Step("s3", "s3:GetObject", f"{bucket}{layer}", False),
    )


def layer_signer(partition: str) -> Principal:
    """The session that signs presigned layer URLs: a principal of an AWS-owned account."""
    return Principal.role_session(
        f"arn:{partition}:iam::{LAYER_SIGNER_ACCOUNT}:role/ecr-layer-url-signer", "ecr"
    )
