"""The Go struct layouts Karpenter v1.14.1 hashes for drift, field by field in declaration
order with their `hash:"..."` tags: kubernetes-sigs/karpenter `pkg/apis/v1/nodepool.go`
(NodeClaimTemplate and what it embeds, k8s.io/api core/v1 Taint, metav1.Duration) and
aws/karpenter-provider-aws `pkg/apis/v1/ec2nodeclass.go` (EC2NodeClassSpec). Field order
matters: hashstructure folds each field into the struct's hash in turn. Integer widths matter
too (int32 fields write 4 bytes, int64 fields 8, bools 1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class T:
    """A Go type: kind is string|int8|int32|int64|bool|duration|quantity|ptr|slice|map|struct."""

    kind: str
    elem: T | None = None
    name: str = ""
    fields: tuple[F, ...] = ()


@dataclass(frozen=True)
class F:
    go: str
    json: str
    type: T
    tag: str = ""
    """The `hash:"..."` struct tag: "", "ignore" or "string"."""
    embedded_inline: bool = False
    """An embedded struct whose JSON fields sit inline in the parent object."""


STRING, INT32, INT64, BOOL = T("string"), T("int32"), T("int64"), T("bool")
DURATION = T("duration")
"""time.Duration (int64 nanoseconds), written in manifests as a Go duration string."""
QUANTITY = T("quantity")
"""resource.Quantity; fields tagged `hash:"string"` hash its canonical String()."""


def ptr(t: T) -> T:
    return T("ptr", t)


def slice_of(t: T) -> T:
    return T("slice", t)


def map_of(t: T) -> T:
    return T("map", t)


def struct_of(name: str, *fields: F) -> T:
    return T("struct", name=name, fields=fields)


_TAINT = struct_of(
    "Taint",
    F("Key", "key", STRING),
    F("Value", "value", STRING),
    F("Effect", "effect", STRING),
    F("TimeAdded", "timeAdded", ptr(STRING)),
)
_METAV1_DURATION = struct_of("Duration", F("Duration", "", DURATION))
_NILLABLE_DURATION = T("nillable")
"""karpenter v1 NillableDuration: {*time.Duration (embedded), Raw []byte `hash:"ignore"`}."""

NODE_CLAIM_TEMPLATE = struct_of(
    "NodeClaimTemplate",
    F(
        "ObjectMeta",
        "metadata",
        struct_of(
            "ObjectMeta",
            F("Labels", "labels", map_of(STRING)),
            F("Annotations", "annotations", map_of(STRING)),
        ),
    ),
    F(
        "Spec",
        "spec",
        struct_of(
            "NodeClaimTemplateSpec",
            F("Taints", "taints", slice_of(_TAINT)),
            F("StartupTaints", "startupTaints", slice_of(_TAINT)),
            F("Requirements", "requirements", slice_of(STRING), "ignore"),
            F(
                "NodeClassRef",
                "nodeClassRef",
                ptr(
                    struct_of(
                        "NodeClassReference",
                        F("Kind", "kind", STRING),
                        F("Name", "name", STRING),
                        F("Group", "group", STRING),
                    )
                ),
            ),
            F("TerminationGracePeriod", "terminationGracePeriod", ptr(_METAV1_DURATION)),
            F("ExpireAfter", "expireAfter", _NILLABLE_DURATION),
        ),
    ),
)

_IGNORED = slice_of(STRING)
_I32, _I64, _S, _B = ptr(INT32), ptr(INT64), ptr(STRING), ptr(BOOL)
EC2_NODE_CLASS_SPEC = struct_of(
    "EC2NodeClassSpec",
    F("SubnetSelectorTerms", "subnetSelectorTerms", _IGNORED, "ignore"),
    F("SecurityGroupSelectorTerms", "securityGroupSelectorTerms", _IGNORED, "ignore"),
    F("CapacityReservationSelectorTerms", "capacityReservationSelectorTerms", _IGNORED, "ignore"),
    F(
        "PlacementGroupSelector",
        "placementGroupSelector",
        ptr(struct_of("PlacementGroupSelector", F("Name", "name", _S), F("ID", "id", _S))),
    ),
    F("AssociatePublicIPAddress", "associatePublicIPAddress", _B),
    F("IPPrefixCount", "ipPrefixCount", _I32, "ignore"),
    F("AMISelectorTerms", "amiSelectorTerms", _IGNORED, "ignore"),
    F("AMIFamily", "amiFamily", _S, "ignore"),
    F("UserData", "userData", _S),
    F("Role", "role", STRING),
    F("InstanceProfile", "instanceProfile", _S),
    F("Tags", "tags", map_of(STRING)),
    F(
        "Kubelet",
        "kubelet",
        ptr(
            struct_of(
                "KubeletConfiguration",
                F("ClusterDNS", "clusterDNS", slice_of(STRING)),
                F("MaxPods", "maxPods", _I32),
                F("PodsPerCore", "podsPerCore", _I32),
                F("SystemReserved", "systemReserved", map_of(STRING)),
                F("KubeReserved", "kubeReserved", map_of(STRING)),
                F("EvictionHard", "evictionHard", map_of(STRING)),
                F("EvictionSoft", "evictionSoft", map_of(STRING)),
                F("EvictionSoftGracePeriod", "evictionSoftGracePeriod", map_of(_METAV1_DURATION)),
                F("EvictionMaxPodGracePeriod", "evictionMaxPodGracePeriod", _I32),
                F("ImageGCHighThresholdPercent", "imageGCHighThresholdPercent", _I32),
                F("ImageGCLowThresholdPercent", "imageGCLowThresholdPercent", _I32),
                F("CPUCFSQuota", "cpuCFSQuota", _B),
            )
        ),
    ),
    F(
        "BlockDeviceMappings",
        "blockDeviceMappings",
        slice_of(
            ptr(
                struct_of(
                    "BlockDeviceMapping",
                    F("DeviceName", "deviceName", _S),
                    F(
                        "EBS",
                        "ebs",
                        ptr(
                            struct_of(
                                "BlockDevice",
                                F("DeleteOnTermination", "deleteOnTermination", _B),
                                F("Encrypted", "encrypted", _B),
                                F("IOPS", "iops", _I64),
                                F("KMSKeyID", "kmsKeyID", _S),
                                F("SnapshotID", "snapshotID", _S),
                                F("Throughput", "throughput", _I64),
                                F("VolumeInitializationRate", "volumeInitializationRate", _I32),
                                F("VolumeSize", "volumeSize", ptr(QUANTITY), "string"),
                                F("VolumeType", "volumeType", _S),
                            )
                        ),
                    ),
                    F("RootVolume", "rootVolume", BOOL),
                )
            )
        ),
    ),
    F("InstanceStorePolicy", "instanceStorePolicy", _S),
    F(
        "NetworkInterfaces",
        "networkInterfaces",
        slice_of(
            ptr(
                struct_of(
                    "NetworkInterface",
                    F("NetworkCardIndex", "networkCardIndex", INT32),
                    F("DeviceIndex", "deviceIndex", INT32),
                    F("InterfaceType", "interfaceType", STRING),
                )
            )
        ),
    ),
    F("DetailedMonitoring", "detailedMonitoring", _B),
    F(
        "MetadataOptions",
        "metadataOptions",
        ptr(
            struct_of(
                "MetadataOptions",
                F("HTTPEndpoint", "httpEndpoint", _S),
                F("HTTPProtocolIPv6", "httpProtocolIPv6", _S),
                F("HTTPPutResponseHopLimit", "httpPutResponseHopLimit", _I64),
                F("HTTPTokens", "httpTokens", _S),
            )
        ),
    ),
    F(
        "ConnectionTracking",
        "connectionTracking",
        ptr(
            struct_of(
                "ConnectionTracking",
                F("TCPEstablishedTimeout", "tcpEstablishedTimeout", _I32),
                F("UDPStreamTimeout", "udpStreamTimeout", _I32),
                F("UDPTimeout", "udpTimeout", _I32),
            )
        ),
    ),
    F("Context", "context", _S),
    F(
        "CPUOptions",
        "cpuOptions",
        ptr(struct_of("CPUOptions", F("NestedVirtualization", "nestedVirtualization", _S))),
    ),
)
