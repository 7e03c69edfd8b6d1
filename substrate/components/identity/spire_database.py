"""The SPIRE server's shared datastore: an RDS for PostgreSQL instance.

- In the cluster's private subnets, not publicly accessible; its security group accepts TCP
  5432 from the cluster security group only (the group EKS gives managed nodes, which Karpenter's
  node classes select) and sends nothing.
- Storage and the RDS-managed master user secret (Secrets Manager) encrypted with a customer
  managed key of its own; Multi-AZ per argument (a synchronous standby RDS fails over to).
- IAM database authentication on: the SPIRE server connects as the database user `spire` with a
  short-lived token signed by its Pod Identity role (`rds-db:connect` on that one user), so no
  database password exists in the cluster. RDS rotates the master password in Secrets Manager;
  nothing in the platform reads it. The `spire` user is created once by an operator
  (`bootstrap_sql`, docs/identity.md): RDS offers no API that runs SQL on an RDS for PostgreSQL
  instance.
"""

from collections.abc import Mapping, Sequence
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context
from substrate.components.core.kms_key import customer_key
from substrate.components.core.kms_policies import database_key_policy

DATABASE = "spire"
"""Database the instance is created with; SPIRE's tables live there."""
SPIRE_USER = "spire"
"""The database user the SPIRE server logs in as (IAM authentication)."""
MASTER_USER = "spire_admin"
"""RDS master user: its password is RDS-managed, in Secrets Manager; only the bootstrap uses it."""
PORT = 5432


def bootstrap_sql(database: str = DATABASE, user: str = SPIRE_USER) -> str:
    """What the master user runs once: a login role that may authenticate only with IAM tokens
    (`rds_iam`) and owns SPIRE's database (so SPIRE's migrations may create its tables in the
    public schema, which PostgreSQL 15+ lets only the database owner create in)."""
    return (
        f"CREATE ROLE {user} WITH LOGIN; GRANT rds_iam TO {user}; "
        f"ALTER DATABASE {database} OWNER TO {user};"
    )


def connect_arn(partition: str, region: str, account: str, resource_id: str, user: str) -> str:
    """The `rds-db:connect` resource of one database user (RDS User Guide, "Creating and using an
    IAM policy for IAM database access")."""
    return f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"


def _secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    """ARN of the RDS-managed master user secret (one per instance)."""
    (secret,) = secrets
    arn = secret.secret_arn
    if arn is None:
        raise ValueError("RDS reported its master user secret without an ARN")
    return arn


class SpireDatabaseArgs(TypedDict, total=False):
    identifier: Required[str]
    """RDS instance identifier (also the subnet group's name), e.g. `<cluster>-spire`."""
    vpc_id: Required[pulumi.Input[str]]
    """The cluster's VPC."""
    subnet_ids: Required[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Private subnets, one per Availability Zone."""
    source_security_group_id: Required[pulumi.Input[str]]
    """The only security group allowed to reach the database (the cluster's)."""
    instance_class: NotRequired[str]
    """RDS instance class. Default `db.t4g.small`."""
    engine_version: NotRequired[str]
    """PostgreSQL major version. Default `17`."""
    multi_az: NotRequired[bool]
    """Synchronous standby in another zone. Default true."""
    storage_gib: NotRequired[int]
    """Allocated gp3 storage. Default 20."""
    backup_retention_days: NotRequired[int]
    """Automated backups kept this long. Default 7."""
    deletion_protection: NotRequired[bool]
    """Refuse deletion. Default true."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource."""


class SpireDatabase(pulumi.ComponentResource):
    """KMS key, subnet group, security group and the RDS for PostgreSQL instance."""

    address: pulumi.Output[str]
    port: pulumi.Output[int]
    resource_id: pulumi.Output[str]
    """DbiResourceId: what `rds-db:connect` names."""
    master_secret_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: SpireDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:identity:SpireDatabase", name, None, opts)
        ident = args["identifier"]
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        ctx = aws_context(self)
        key = customer_key(
            f"{name}-key",
            description=f"SPIRE datastore {ident}: storage and master user secret",
            policy=pulumi.Output.all(ctx.account_id, ctx.partition).apply(
                lambda v: database_key_policy(v[0], v[1])
            ),
            tags=tags,
            opts=child,
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=ident,
            description=f"Private subnets of {ident}",
            subnet_ids=args["subnet_ids"],
            tags=tags,
            opts=child,
        )
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"{ident}: PostgreSQL from the cluster security group only",
            vpc_id=args["vpc_id"],
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="PostgreSQL from the cluster security group",
                    protocol="tcp",
                    from_port=PORT,
                    to_port=PORT,
                    security_groups=[args["source_security_group_id"]],
                )
            ],
            tags={**tags, "Name": ident},
            opts=child,
        )
        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=ident,
            engine="postgres",
            engine_version=args.get("engine_version", "17"),
            instance_class=args.get("instance_class", "db.t4g.small"),
            allocated_storage=args.get("storage_gib", 20),
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_name=DATABASE,
            username=MASTER_USER,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            iam_database_authentication_enabled=True,
            port=PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            multi_az=args.get("multi_az", True),
            backup_retention_period=args.get("backup_retention_days", 7),
            deletion_protection=args.get("deletion_protection", True),
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{ident}-final",
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            tags=tags,
            opts=child,
        )
        self.address = instance.address
        self.port = instance.port
        self.resource_id = instance.resource_id
        self.master_secret_arn = instance.master_user_secrets.apply(_secret_arn)
        self.key_arn = key.arn
        self.security_group_id = group.id
        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "resourceId": self.resource_id,
                "masterSecretArn": self.master_secret_arn,
                "keyArn": self.key_arn,
            }
        )
