"""R27: the Pod Security Standards `restricted` profile, for every namespace not exempted.

Namespaces also carry PSA `restricted` labels (substrate.components.core.addon); this policy is the
second line
that reports in background scans and covers namespaces whose labels someone loosened. The
explicit exemptions (SPIRE agent, DCGM exporter, NVIDIA device plugin) come from the stack's
`admission.podSecurityExemptNamespaces`; the CNI runs in kube-system, which no policy sees.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    ALL_CONTAINERS,
    PolicySettings,
    cel,
    validating_policy,
    validation,
    variable,
)

NAME = "pod-security-restricted"
RULE = "R27"

SAFE_SYSCTLS = (
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
)
"""Pod Security Standards baseline "Sysctls" allowed names (Kubernetes 1.29+)."""
RESTRICTED_VOLUMES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
SELINUX_TYPES = ("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")

_VOLUME_OK = " || ".join(f"has(v.{kind})" for kind in RESTRICTED_VOLUMES)


def build(settings: PolicySettings) -> dict[str, Any]:
    sc = "c.?securityContext"
    pod_sc = "object.spec.?securityContext"
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Pod Security Standards: restricted",
        subject="Pod",
        description="Pods follow the Kubernetes Pod Security Standards restricted profile: no "
        "host namespaces, ports or paths, no privileged or escalating containers, non-root, "
        "seccomp RuntimeDefault/Localhost, ALL capabilities dropped.",
        extra_excluded=settings.pod_security_exempt_namespaces,
        variables=[
            variable("containers", ALL_CONTAINERS),
            variable("podRunAsNonRoot", f"{pod_sc}.?runAsNonRoot.orValue(false)"),
            variable("podSeccomp", f"{pod_sc}.?seccompProfile.?type.orValue('')"),
        ],
        validations=[
            validation(
                "!object.spec.?hostNetwork.orValue(false) && !object.spec.?hostPID.orValue(false)"
                " && !object.spec.?hostIPC.orValue(false)",
                "Host namespaces: hostNetwork, hostPID and hostIPC must be unset or false.",
            ),
            validation(
                f"variables.containers.all(c, !{sc}.?privileged.orValue(false))",
                "Privileged containers are not allowed.",
            ),
            validation(
                f"!{pod_sc}.?windowsOptions.?hostProcess.orValue(false) && variables.containers"
                f".all(c, !{sc}.?windowsOptions.?hostProcess.orValue(false))",
                "HostProcess containers are not allowed.",
            ),
            validation(
                f"object.spec.?volumes.orValue([]).all(v, {_VOLUME_OK})",
                "Volume types: only configMap, csi, downwardAPI, emptyDir, ephemeral, "
                "persistentVolumeClaim, projected and secret volumes are allowed (no hostPath).",
            ),
            validation(
                "variables.containers.all(c, c.?ports.orValue([])"
                ".all(p, p.?hostPort.orValue(0) == 0))",
                "Host ports are not allowed.",
            ),
            validation(
                f"variables.containers.all(c, {sc}.?allowPrivilegeEscalation.orValue(true)"
                " == false)",
                "Privilege escalation: every container must set "
                "securityContext.allowPrivilegeEscalation to false.",
            ),
            validation(
                f"variables.containers.all(c, {sc}.?runAsNonRoot"
                ".orValue(variables.podRunAsNonRoot) == true)",
                "Running as non-root: runAsNonRoot must be true for the pod or every container.",
            ),
            validation(
                f"{pod_sc}.?runAsUser.orValue(1) != 0 && variables.containers"
                f".all(c, {sc}.?runAsUser.orValue(1) != 0)",
                "Running as non-root user: runAsUser must not be 0.",
            ),
            validation(
                f"variables.containers.all(c, {sc}.?seccompProfile.?type"
                ".orValue(variables.podSeccomp) in ['RuntimeDefault', 'Localhost'])",
                "Seccomp: seccompProfile.type must be RuntimeDefault or Localhost for the pod or "
                "every container.",
            ),
            validation(
                f"variables.containers.all(c, {sc}.?capabilities.?drop.orValue([])"
                ".exists(x, x == 'ALL') && "
                f"{sc}.?capabilities.?add.orValue([]).all(x, x == 'NET_BIND_SERVICE'))",
                "Capabilities: every container must drop ALL and may add only NET_BIND_SERVICE.",
            ),
            validation(
                f"variables.containers.all(c, {sc}.?procMount.orValue('Default') == 'Default')",
                "/proc mount: procMount must be Default.",
            ),
            validation(
                f"{pod_sc}.?sysctls.orValue([]).all(s, s.name in {cel(SAFE_SYSCTLS)})",
                "Sysctls: only the Pod Security Standards safe sysctls are allowed.",
            ),
            validation(
                f"([{pod_sc}.?seLinuxOptions.orValue({{}})] + variables.containers"
                f".map(c, {sc}.?seLinuxOptions.orValue({{}})))"
                f".all(o, o.?type.orValue('') in {cel(SELINUX_TYPES)} && !has(o.user)"
                " && !has(o.role))",
                "SELinux: only the container_t, container_init_t, container_kvm_t and "
                "container_engine_t types are allowed, and user and role must be unset.",
            ),
            validation(
                f"{pod_sc}.?appArmorProfile.?type.orValue('RuntimeDefault') != 'Unconfined' && "
                f"variables.containers.all(c, {sc}.?appArmorProfile.?type"
                ".orValue('RuntimeDefault') != 'Unconfined') && "
                "object.metadata.?annotations.orValue({}).all(k, "
                "!k.startsWith('container.apparmor.security.beta.kubernetes.io/') || "
                "object.metadata.annotations[k] == 'runtime/default' || "
                "object.metadata.annotations[k].startsWith('localhost/'))",
                "AppArmor: profiles must be RuntimeDefault or Localhost, never Unconfined.",
            ),
        ],
    )
