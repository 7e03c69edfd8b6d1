"""Manifests of the Kubernetes and Kueue documentation examples (tests/engines/test_apiserver.py).

Each is the documented example (names kept), placed in a namespace of its own so that one engine
run covers them all. Sources are named beside each.
"""

from __future__ import annotations

from typing import Any

from substrate.engines.apiserver import namespace

TENANT_LABEL = "substrate.io/tenant"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
NOW = "2026-01-01T00:00:00Z"


def _pod(name: str, ns: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, **meta},
        "spec": spec,
    }


def _nginx(name: str, **container: Any) -> dict[str, Any]:
    return {"containers": [{"name": name, "image": "nginx", **container}]}


# kubernetes.io/docs/tasks/administer-cluster/manage-resources/memory-default-namespace/
MEM_NS = "default-mem-example"
MEM_LIMIT_RANGE = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "mem-limit-range", "namespace": MEM_NS},
    "spec": {
        "limits": [
            {
                "default": {"memory": "512Mi"},
                "defaultRequest": {"memory": "256Mi"},
                "type": "Container",
            }
        ]
    },
}
MEM_PODS = [
    _pod("default-mem-demo", MEM_NS, _nginx("default-mem-demo-ctr")),
    _pod(
        "default-mem-demo-2",
        MEM_NS,
        _nginx("default-mem-demo-2-ctr", resources={"limits": {"memory": "1Gi"}}),
    ),
    _pod(
        "default-mem-demo-3",
        MEM_NS,
        _nginx("default-mem-demo-3-ctr", resources={"requests": {"memory": "128Mi"}}),
    ),
]

# kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/ (opt out of
# API credential automounting) and the Priority example of
# kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
PLAIN_NS = "examples"
HIGH_PRIORITY = {
    "apiVersion": "scheduling.k8s.io/v1",
    "kind": "PriorityClass",
    "metadata": {"name": "high-priority"},
    "value": 1000000,
    "globalDefault": False,
    "description": "This priority class should be used for XYZ service pods only.",
}
PLAIN_PODS = [
    _pod("nginx", PLAIN_NS, _nginx("nginx")),
    _pod("no-token", PLAIN_NS, {**_nginx("nginx"), "automountServiceAccountToken": False}),
    _pod("priority-nginx", PLAIN_NS, {**_nginx("nginx"), "priorityClassName": "high-priority"}),
    _pod("unknown-priority", PLAIN_NS, {**_nginx("nginx"), "priorityClassName": "no-such-class"}),
    _pod("lost", "no-such-namespace", _nginx("nginx")),
    # A privileged container (kubernetes.io/docs/concepts/security/linux-kernel-security-
    # constraints/ "Privileged containers"): EKS runs kube-apiserver with privileged allowed.
    _pod("privileged", PLAIN_NS, _nginx("nginx", securityContext={"privileged": True})),
]

# kubernetes.io/docs/concepts/workloads/controllers/job/ (the "pi" example, two at a time)
PI_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi", "namespace": PLAIN_NS},
    "spec": {
        "parallelism": 2,
        "completions": 2,
        "backoffLimit": 4,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "pi",
                        "image": "perl:5.34.0",
                        "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                    }
                ],
            }
        },
    },
}

# kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ (the "hello" example)
HELLO_CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "hello", "namespace": PLAIN_NS},
    "spec": {
        "schedule": "* * * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [
                            {
                                "name": "hello",
                                "image": "busybox:1.28",
                                "command": ["/bin/sh", "-c", "date; echo Hello"],
                            }
                        ],
                    }
                }
            }
        },
    },
}

# kubernetes.io/docs/concepts/workloads/controllers/deployment/ (nginx-deployment)
NGINX_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "nginx-deployment", "namespace": PLAIN_NS, "labels": {"app": "nginx"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": _nginx("nginx", image="nginx:1.14.2", ports=[{"containerPort": 80}]),
        },
    },
}

# kubernetes.io/docs/concepts/workloads/controllers/statefulset/ ("web", without a storage
# class name so that the stack's default StorageClass applies)
WEB_STATEFULSET = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "web", "namespace": PLAIN_NS},
    "spec": {
        "selector": {"matchLabels": {"app": "nginx"}},
        "serviceName": "nginx",
        "replicas": 3,
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": _nginx(
                "nginx",
                image="registry.k8s.io/nginx-slim:0.24",
                volumeMounts=[{"name": "www", "mountPath": "/usr/share/nginx/html"}],
            ),
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "www"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ],
    },
}

# kubernetes.io/docs/tutorials/security/ns-level-pss/ and
# kubernetes.io/docs/concepts/security/pod-security-admission/
PSA_NS = "psa-restricted"
RESTRICTED_CONTAINER = {
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
}
PSA_OBJECTS = [
    _pod("nginx-plain", PSA_NS, _nginx("nginx")),
    _pod("nginx-restricted", PSA_NS, _nginx("nginx", **RESTRICTED_CONTAINER)),
    {**NGINX_DEPLOYMENT, "metadata": {"name": "nginx-plain", "namespace": PSA_NS}},
]

# kueue.sigs.k8s.io/docs/tasks/run/jobs/, .../run/plain_pods/, .../run/deployment/
KUEUE_NS = "kueue-demo"
UNMANAGED_NS = "kueue-unmanaged"
USER_QUEUE = {
    "apiVersion": "kueue.x-k8s.io/v1beta2",
    "kind": "LocalQueue",
    "metadata": {"name": "user-queue", "namespace": KUEUE_NS},
    "spec": {"clusterQueue": "cluster-queue"},
}
SAMPLE_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "sample-job",
        "namespace": KUEUE_NS,
        "labels": {QUEUE_LABEL: "user-queue"},
    },
    "spec": {
        "parallelism": 3,
        "completions": 3,
        "suspend": False,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "dummy-job",
                        "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                        "args": ["entrypoint-tester", "hello", "world"],
                        "resources": {"requests": {"cpu": 1, "memory": "200Mi"}},
                    }
                ],
            }
        },
    },
}
KUEUE_SLEEP = _pod(
    "kueue-sleep",
    KUEUE_NS,
    {"containers": [{"name": "sleep", "image": "busybox", "command": ["sleep", "3"]}]},
    labels={QUEUE_LABEL: "user-queue"},
)
# kueue.sigs.k8s.io/docs/tasks/run/jobsets/ (with one field the JobSet schema does not have)
SAMPLE_JOBSET = {
    "apiVersion": "jobset.x-k8s.io/v1alpha2",
    "kind": "JobSet",
    "metadata": {"name": "sleep-job", "namespace": KUEUE_NS, "labels": {QUEUE_LABEL: "user-queue"}},
    "spec": {
        "network": {"enableDNSHostnames": False, "subdomain": "some-subdomain"},
        "replicatedJobs": [
            {
                "name": "workers",
                "replicas": 2,
                "template": {
                    "spec": {
                        "parallelism": 4,
                        "completions": 4,
                        "backoffLimit": 0,
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "sleep",
                                        "image": "busybox",
                                        "command": ["sleep"],
                                        "args": ["100s"],
                                        "sleepy": True,
                                    }
                                ]
                            }
                        },
                    }
                },
            }
        ],
    },
}
KUEUE_OBJECTS = [
    SAMPLE_JOB,
    SAMPLE_JOBSET,
    KUEUE_SLEEP,
    {**KUEUE_SLEEP, "metadata": {**KUEUE_SLEEP["metadata"], "namespace": UNMANAGED_NS}},
    {
        **NGINX_DEPLOYMENT,
        "metadata": {
            "name": "nginx-queued",
            "namespace": KUEUE_NS,
            "labels": {QUEUE_LABEL: "user-queue"},
        },
    },
]

NAMESPACES = [
    namespace(MEM_NS),
    namespace(PLAIN_NS),
    namespace(PSA_NS, {"pod-security.kubernetes.io/enforce": "restricted"}),
    namespace(KUEUE_NS, {TENANT_LABEL: KUEUE_NS}),
    namespace(UNMANAGED_NS),
]
CLUSTER = [MEM_LIMIT_RANGE, HIGH_PRIORITY, USER_QUEUE]
OBJECTS = [
    *MEM_PODS,
    *PLAIN_PODS,
    PI_JOB,
    HELLO_CRONJOB,
    NGINX_DEPLOYMENT,
    WEB_STATEFULSET,
    *PSA_OBJECTS,
    *KUEUE_OBJECTS,
]
