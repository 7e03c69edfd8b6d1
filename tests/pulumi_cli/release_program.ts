// A program reading a Helm-based Substrate component's `release` output with the types of
// @pulumi/kubernetes: it type-checks only if the generated SDK types that output as the
// kubernetes package's helm.v3.Release.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as substrate from "@pulumi/substrate";

const dcgm = new substrate.DcgmExporter("dcgm", { clusterName: "research" });
const release: pulumi.Output<k8s.helm.v3.Release> = dcgm.release;
export const chartVersion = release.apply((r) => r.status).apply((s) => s.version);
