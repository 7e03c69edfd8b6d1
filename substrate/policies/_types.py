"""Resource type tokens the policies inspect: Substrate's inputs and the children the real
engine shows inside remote components (e.g. `aws:eks/cluster:Cluster` in `eks:index:Cluster`)."""

EKS_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KMS_KEY = "aws:kms/key:Key"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
VALIDATING_POLICIES = tuple(
    f"kubernetes:policies.kyverno.io/{v}:ValidatingPolicy" for v in ("v1", "v1beta1", "v1alpha1")
)
WEBHOOK_CONFIGURATIONS = tuple(
    f"kubernetes:admissionregistration.k8s.io/v1:{kind}WebhookConfiguration"
    for kind in ("Validating", "Mutating")
)
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"
CLUSTER_SPIFFE_ID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID"
SQS_QUEUE = "aws:sqs/queue:Queue"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_POLICY_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
ROLE_POLICY_ATTACHMENT = IAM_POLICY_ATTACHMENTS[0]
POD_IDENTITY_ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
EKS_ADDON = "aws:eks/addon:Addon"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
INVOCATION_LOGGING = (
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
)
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CLOUDTRAIL = "aws:cloudtrail/trail:Trail"
NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CLUSTER_QUEUES = tuple(
    f"kubernetes:kueue.x-k8s.io/{v}:ClusterQueue" for v in ("v1beta2", "v1beta1")
)
RESOURCE_FLAVORS = tuple(
    f"kubernetes:kueue.x-k8s.io/{v}:ResourceFlavor" for v in ("v1beta2", "v1beta1")
)
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD_DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
