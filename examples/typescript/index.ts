// Substrate's storage classes and an agent team's storage quota on an existing EKS cluster, from
// TypeScript, through the Node.js SDK generated from Substrate's component package. The
// Kubernetes provider is the default one (the current kubeconfig context: the existing cluster).
import * as pulumi from "@pulumi/pulumi";
import * as substrate from "@pulumi/substrate";

const config = new pulumi.Config();

const storage = new substrate.StorageClasses("storage", {
    volumeKmsKeyArn: config.require("volumeKmsKeyArn"),
    reclaimPolicy: substrate.types.enums.ReclaimPolicy.RETAIN,
    agentIops: 6000,
});

new substrate.AgentMemoryQuota("research-agents", {
    namespace: "research-agents",
    agents: {
        planner: { replicas: 2, size: "20Gi", storageClass: "agent-gp3" },
        retriever: { replicas: 4, size: "50Gi", storageClass: "agent-gp3" },
    },
    noGpus: true,
}, { dependsOn: [storage] });

export const defaultStorageClass = storage.defaultClass;
