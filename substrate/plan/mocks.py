"""Deterministic mock outputs for the plan.

Ids and ARNs derive from resource names, account 123456789012 and the stack's Region, so the
same config always yields the same plan. Auto-named resources get the name pulumi-aws would
give them (substrate.plan.engine_rules), with a deterministic suffix. Every output a Substrate
component reads must be returned here: a missing one silently becomes None under the mock
engine. Unknown invokes raise instead of returning nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from substrate.components.bedrock.bedrock_models import destinations
from substrate.components.core.validators import partition_of
from substrate.plan.engine_rules import autoname

ACCOUNT_ID = "123456789012"
UNPINNED_ADDON = "eks-default-for-{}"
"""The version the plan shows for an EKS add-on the stack does not pin: EKS's default for the
Kubernetes version, which EKS resolves at deploy time (and may change between deploys)."""

# EC2-style physical ids: prefix + 17 hex characters.
EC2_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
}


S3_PREFIX_LIST_STAND_IN = ("192.0.2.0/24", "198.51.100.0/24")
"""What the plan's `getManagedPrefixList` answers for `com.amazonaws.<region>.s3` in every
Region: stand-ins from the documentation ranges (RFC 5737), not S3's addresses. The real entries
are AWS's, read when `pulumi up` runs; a plan only shows where they go."""


KUBERNETES_SERVICE_CIDR_STAND_IN = "172.20.0.0/16"
"""What the plan's `eks.getCluster` answers for the cluster's Service range: one of the two EKS
assigns when the cluster sets none (EKS API reference, KubernetesNetworkConfigRequest); which one
a cluster got is read when `pulumi up` runs."""


def s3_prefix_list_stand_in(name: str) -> list[dict[str, str]]:
    return [{"cidr": c, "description": f"stand-in for {name}"} for c in S3_PREFIX_LIST_STAND_IN]


def subnet_cidr_stand_in(subnet_id: str) -> str:
    """What the plan's `getSubnet` answers for an existing subnet: a /24 of 10.255.0.0/16 derived
    from its id (a stand-in; the real CIDR is read when `pulumi up` runs)."""
    return f"10.255.{int(digest('subnet', subnet_id, length=4), 16) % 256}.0/24"


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


RDS_INSTANCE = "aws:rds/instance:Instance"


def rds_resource_id(name: str) -> str:
    """The DbiResourceId the plan gives the RDS instance resource ``name``."""
    return f"db-{digest(RDS_INSTANCE, name, length=26).upper()}"


def rds_master_secret_arn(name: str, partition: str, region: str) -> str:
    """The ARN of the RDS-managed master user secret of the RDS instance resource ``name``."""
    secret = f"rds!db-{digest(RDS_INSTANCE, name, length=8)}-{digest('secret', name, length=6)}"
    return f"arn:{partition}:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}"


class SubstrateMocks(Mocks):
    def __init__(self, region: str, caller: str | None = None) -> None:
        self.region = region
        self.partition = partition_of(region)
        self.caller = caller or f"arn:{self.partition}:iam::{ACCOUNT_ID}:user/substrate-plan"
        """The IAM role or user the program runs as (a role runs as a session of it)."""

    # -- resources ---------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        typ, name = args.typ, args.name
        outputs: dict[str, Any] = dict(args.inputs)
        if typ.startswith("kubernetes:"):
            return self._kubernetes(typ, name, outputs)
        if typ.startswith("pulumi:providers:"):
            return f"{name}-provider-id", outputs
        if typ == "eks:index:Cluster":
            return name, self._eks_cluster(outputs)
        named = autoname(typ, name, outputs)  # the provider's Check fills auto-names in
        if named is not None:
            outputs[named[0]] = named[1]
        if typ in EC2_ID_PREFIX:
            rid = f"{EC2_ID_PREFIX[typ]}-{digest(typ, name)}"
            outputs.setdefault("arn", self._arn(typ, rid))
            if typ == "aws:ec2/launchTemplate:LaunchTemplate":
                outputs.update(latestVersion=1, defaultVersion=1)
            return rid, outputs
        return self._aws(typ, name, outputs)

    def _arn(self, typ: str, resource_id: str) -> str:
        service, _, kind = typ.split(":")[1].partition("/")
        return (
            f"arn:{self.partition}:{service}:{self.region}:{ACCOUNT_ID}:"
            f"{kind.lower()}/{resource_id}"
        )

    def _aws(self, typ: str, name: str, outputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        physical = outputs.get("name") or name
        p, r, a = self.partition, self.region, ACCOUNT_ID
        outputs.setdefault("name", physical)
        if typ == "aws:kms/key:Key":
            key_id = "-".join(
                digest(typ, name, length=32)[i:j]
                for i, j in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
            )
            outputs.update(keyId=key_id, arn=f"arn:{p}:kms:{r}:{a}:key/{key_id}")
            return key_id, outputs
        if typ == "aws:iam/role:Role":
            outputs.update(
                arn=f"arn:{p}:iam::{a}:role/{physical}",
                uniqueId=f"AROA{digest(typ, name, length=17).upper()}",
            )
            return physical, outputs
        if typ == "aws:iam/policy:Policy":
            outputs["arn"] = f"arn:{p}:iam::{a}:policy/{physical}"
            return outputs["arn"], outputs
        if typ == "aws:iam/instanceProfile:InstanceProfile":
            outputs["arn"] = f"arn:{p}:iam::{a}:instance-profile/{physical}"
            return physical, outputs
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = f"arn:{p}:logs:{r}:{a}:log-group:{physical}"
            return physical, outputs
        if typ == "aws:sqs/queue:Queue":
            outputs.update(
                arn=f"arn:{p}:sqs:{r}:{a}:{physical}",
                url=f"https://sqs.{r}.amazonaws.com/{a}/{physical}",
            )
            return outputs["url"], outputs
        if typ == "aws:cloudwatch/eventRule:EventRule":
            outputs["arn"] = f"arn:{p}:events:{r}:{a}:rule/{physical}"
            return physical, outputs
        if typ == RDS_INSTANCE:
            ident = str(outputs.get("identifier") or physical)
            outputs.update(
                arn=f"arn:{p}:rds:{r}:{a}:db:{ident}",
                resourceId=rds_resource_id(name),
                address=f"{ident}.{digest('rds', a, r, length=12)}.{r}.rds.amazonaws.com",
                port=outputs.get("port") or 5432,
                masterUserSecrets=[
                    {
                        "secretArn": rds_master_secret_arn(name, p, r),
                        "kmsKeyId": outputs.get("masterUserSecretKmsKeyId"),
                        "secretStatus": "active",
                    }
                ],
            )
            return ident, outputs
        if typ == "aws:s3/bucket:Bucket":
            bucket = str(outputs.get("bucket") or name)
            outputs.update(bucket=bucket, arn=f"arn:{p}:s3:::{bucket}")
            return bucket, outputs
        if typ == "aws:bedrock/inferenceProfile:InferenceProfile":
            return self._application_profile(typ, name, outputs)
        if typ == "aws:eks/nodeGroup:NodeGroup":
            outputs.setdefault("nodeGroupName", name)
        outputs.setdefault("arn", self._arn(typ, physical))
        return physical, outputs

    def _kubernetes(
        self, typ: str, name: str, outputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if typ == "kubernetes:helm.sh/v3:Release":
            outputs["status"] = {
                "name": outputs.get("name", name),
                "status": "deployed",
                "namespace": outputs.get("namespace", "default"),
                "version": outputs.get("version", ""),
                "chart": outputs.get("chart", ""),
                "revision": 1,
            }
            return name, outputs
        outputs.setdefault("metadata", {})
        outputs["api_version"] = outputs.get("apiVersion")
        meta = outputs["metadata"]
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        mname = meta.get("name", name) if isinstance(meta, dict) else name
        return f"{ns}/{mname}" if ns else mname, outputs

    def _eks_cluster(self, outputs: dict[str, Any]) -> dict[str, Any]:
        cluster = str(outputs.get("name", "cluster"))
        endpoint = (
            f"https://{digest('eks', cluster, length=32).upper()}.gr7.{self.region}"
            f".eks.amazonaws.com"
        )
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "aws",
            "clusters": [
                {
                    "name": "kubernetes",
                    "cluster": {
                        "server": endpoint,
                        "certificate-authority-data": "LS0tLS1CRUdJTi1NT0NLLS0tLS0K",
                    },
                }
            ],
            "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
            "users": [
                {
                    "name": "aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster,
                                "--region",
                                self.region,
                                "--output",
                                "json",
                            ],
                        }
                    },
                }
            ],
        }
        outputs.update(
            kubeconfig=kubeconfig,
            kubeconfigJson=json.dumps(kubeconfig, sort_keys=True),
            clusterSecurityGroupId=f"sg-{digest('eks-cluster-sg', cluster)}",
            oidcProviderArn=None,
        )
        return outputs

    def _application_profile(
        self, typ: str, name: str, outputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """CreateInferenceProfile: an application profile gets a 12-character id of lowercase
        letters and digits and is associated with the models of what it copies."""
        profile_id = digest(typ, name, length=12)
        source = str((outputs.get("modelSource") or {}).get("copyFrom", ""))
        if ":inference-profile/" in source:
            models = self._inference_profile(source.split("/", 1)[1])["models"]
        else:
            models = [{"modelArn": source}]
        outputs.update(
            arn=f"arn:{self.partition}:bedrock:{self.region}:{ACCOUNT_ID}:"
            f"application-inference-profile/{profile_id}",
            models=models,
            status="ACTIVE",
            type="APPLICATION",
        )
        return profile_id, outputs

    def _inference_profile(self, profile: str) -> dict[str, Any]:
        """What GetInferenceProfile answers for a system-defined profile in this Region, from
        the shipped routing table (the offline fallback): the model in each destination."""
        routed = destinations(profile, self.region)
        if routed is None:
            raise ValueError(f"inference profile {profile} cannot be called from {self.region}")
        model = profile.split(".", 1)[1]
        arn = f"arn:{self.partition}:bedrock:{self.region}:{ACCOUNT_ID}:inference-profile/{profile}"
        return {
            "id": profile,
            "inferenceProfileId": profile,
            "inferenceProfileArn": arn,
            "inferenceProfileName": profile,
            "description": f"{profile} (routing table)",
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2025-01-01T00:00:00Z",
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
            "region": self.region,
            "models": [
                {"modelArn": f"arn:{self.partition}:bedrock:{r}::foundation-model/{model}"}
                for r in routed
            ],
        }

    # -- invokes -----------------------------------------------------------------------------
    def _caller_identity(self) -> dict[str, Any]:
        """sts:GetCallerIdentity of ``caller``: a role answers with its session's ARN. The
        account the plan's resources live in stays ACCOUNT_ID (every mocked ARN uses it); the
        ARN is the caller's own, which the program's deployer check compares with the admins."""
        _, _, _, _, account, resource = self.caller.split(":", 5)
        kind, _, path_name = resource.partition("/")
        name = path_name.rsplit("/", 1)[-1]
        if kind == "role":
            arn = f"arn:{self.partition}:sts::{account}:assumed-role/{name}/substrate-plan"
            user_id = f"AROA{digest('role', self.caller, length=17).upper()}:substrate-plan"
        else:
            arn, user_id = self.caller, f"AIDA{digest('user', self.caller, length=17).upper()}"
        return {"accountId": ACCOUNT_ID, "id": ACCOUNT_ID, "userId": user_id, "arn": arn}

    def _session_context(self, arn: str) -> dict[str, Any]:
        """aws.iam.getSessionContext: the role behind an assumed-role ARN (with its path, which
        the provider looks up), any other ARN passed through."""
        match = re.fullmatch(r"arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)", arn)
        if match is None:
            return {"arn": arn, "id": arn, "issuerArn": arn, "issuerId": "", "issuerName": ""}
        partition, account, role, session = match.groups()
        issuer = f"arn:{partition}:iam::{account}:role/{role}"
        if self.caller.endswith(f"/{role}") and f":{account}:" in self.caller:
            issuer = self.caller
        return {
            "arn": arn,
            "id": arn,
            "issuerArn": issuer,
            "issuerId": f"AROA{digest('role', issuer, length=17).upper()}",
            "issuerName": role,
            "sessionName": session,
        }

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token, inputs = args.token, dict(args.args)
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            result = self._caller_identity()
        elif token == "aws:iam/getSessionContext:getSessionContext":
            result = self._session_context(str(inputs["arn"]))
        elif token == "aws:index/getPartition:getPartition":
            result = {
                "partition": self.partition,
                "id": self.partition,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            }
        elif token == "aws:index/getRegion:getRegion":
            result = {
                "name": self.region,
                "region": self.region,
                "id": self.region,
                "description": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
            }
        elif token == "aws:eks/getAddonVersion:getAddonVersion":
            # The real value is EKS's default version for this Kubernetes version, resolved
            # at deploy time; the plan shows where it comes from instead of inventing one.
            version = UNPINNED_ADDON.format(inputs["kubernetesVersion"])
            result = {
                **inputs,
                "version": version,
                "id": f"{inputs['addonName']}-{inputs['kubernetesVersion']}",
            }
        elif token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            name = str(inputs.get("name"))
            if name != f"com.amazonaws.{self.region}.s3":
                raise NotImplementedError(f"substrate plan mocks only S3's prefix list, not {name}")
            result = {
                "id": f"pl-{digest(name)}",
                "name": name,
                "arn": f"arn:{self.partition}:ec2:{self.region}:aws:prefix-list/pl-{digest(name)}",
                "addressFamily": "IPv4",
                "ownerId": "AWS",
                "maxEntries": len(S3_PREFIX_LIST_STAND_IN),
                "version": 1,
                "tags": {},
                "region": self.region,
                "entries": s3_prefix_list_stand_in(name),
            }
        elif token == "aws:eks/getCluster:getCluster":
            result = {
                **inputs,
                "id": str(inputs["name"]),
                "kubernetesNetworkConfigs": [
                    {
                        "ipFamily": "ipv4",
                        "serviceIpv4Cidr": KUBERNETES_SERVICE_CIDR_STAND_IN,
                        "serviceIpv6Cidr": "",
                        "elasticLoadBalancings": [],
                    }
                ],
            }
        elif token == "aws:ec2/getSubnet:getSubnet":
            subnet = str(inputs["id"])
            result = {**inputs, "id": subnet, "cidrBlock": subnet_cidr_stand_in(subnet)}
        elif token == "aws:bedrock/getInferenceProfile:getInferenceProfile":
            result = self._inference_profile(str(inputs["inferenceProfileId"]))
        else:
            raise NotImplementedError(
                f"substrate plan has no mock for invoke {token}; add one to "
                "substrate/plan/mocks.py so its outputs are deterministic"
            )
        return result, []
