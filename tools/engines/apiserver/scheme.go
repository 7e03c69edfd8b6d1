package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	_ "k8s.io/kubernetes/pkg/apis/admissionregistration/install"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/node/install"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
	_ "k8s.io/kubernetes/pkg/apis/scheduling/install"
	_ "k8s.io/kubernetes/pkg/apis/storage/install"

	"k8s.io/kubernetes/pkg/registry/admissionregistration/mutatingwebhookconfiguration"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/validatingwebhookconfiguration"
	"k8s.io/kubernetes/pkg/registry/apps/controllerrevision"
	"k8s.io/kubernetes/pkg/registry/apps/daemonset"
	"k8s.io/kubernetes/pkg/registry/apps/deployment"
	"k8s.io/kubernetes/pkg/registry/apps/replicaset"
	"k8s.io/kubernetes/pkg/registry/apps/statefulset"
	"k8s.io/kubernetes/pkg/registry/autoscaling/horizontalpodautoscaler"
	"k8s.io/kubernetes/pkg/registry/batch/cronjob"
	"k8s.io/kubernetes/pkg/registry/batch/job"
	"k8s.io/kubernetes/pkg/registry/core/configmap"
	"k8s.io/kubernetes/pkg/registry/core/limitrange"
	"k8s.io/kubernetes/pkg/registry/core/namespace"
	"k8s.io/kubernetes/pkg/registry/core/persistentvolumeclaim"
	"k8s.io/kubernetes/pkg/registry/core/pod"
	"k8s.io/kubernetes/pkg/registry/core/podtemplate"
	"k8s.io/kubernetes/pkg/registry/core/resourcequota"
	"k8s.io/kubernetes/pkg/registry/core/secret"
	"k8s.io/kubernetes/pkg/registry/core/service"
	"k8s.io/kubernetes/pkg/registry/core/serviceaccount"
	"k8s.io/kubernetes/pkg/registry/networking/ingress"
	"k8s.io/kubernetes/pkg/registry/networking/networkpolicy"
	"k8s.io/kubernetes/pkg/registry/node/runtimeclass"
	"k8s.io/kubernetes/pkg/registry/policy/poddisruptionbudget"
	"k8s.io/kubernetes/pkg/registry/rbac/clusterrole"
	"k8s.io/kubernetes/pkg/registry/rbac/clusterrolebinding"
	"k8s.io/kubernetes/pkg/registry/rbac/role"
	"k8s.io/kubernetes/pkg/registry/rbac/rolebinding"
	"k8s.io/kubernetes/pkg/registry/scheduling/priorityclass"
	"k8s.io/kubernetes/pkg/registry/storage/storageclass"
)

// kindInfo is what the API server's REST storage for a built-in kind knows: its resource name
// and the registry strategy that prepares and validates a new object.
type kindInfo struct {
	resource string
	strategy rest.RESTCreateStrategy
}

// builtin maps the built-in kinds this engine stores to their registry strategies (the
// `Strategy` each pkg/registry package hands its generic store).
var builtin = map[schema.GroupKind]kindInfo{
	{Group: "", Kind: "Pod"}:                                  {"pods", pod.Strategy},
	{Group: "", Kind: "Service"}:                              {"services", service.Strategy},
	{Group: "", Kind: "ConfigMap"}:                            {"configmaps", configmap.Strategy},
	{Group: "", Kind: "Secret"}:                               {"secrets", secret.Strategy},
	{Group: "", Kind: "ServiceAccount"}:                       {"serviceaccounts", serviceaccount.Strategy},
	{Group: "", Kind: "PersistentVolumeClaim"}:                {"persistentvolumeclaims", persistentvolumeclaim.Strategy},
	{Group: "", Kind: "Namespace"}:                            {"namespaces", namespace.Strategy},
	{Group: "", Kind: "LimitRange"}:                           {"limitranges", limitrange.Strategy},
	{Group: "", Kind: "ResourceQuota"}:                        {"resourcequotas", resourcequota.Strategy},
	{Group: "", Kind: "PodTemplate"}:                          {"podtemplates", podtemplate.Strategy},
	{Group: "apps", Kind: "Deployment"}:                       {"deployments", deployment.Strategy},
	{Group: "apps", Kind: "ReplicaSet"}:                       {"replicasets", replicaset.Strategy},
	{Group: "apps", Kind: "StatefulSet"}:                      {"statefulsets", statefulset.Strategy},
	{Group: "apps", Kind: "DaemonSet"}:                        {"daemonsets", daemonset.Strategy},
	{Group: "apps", Kind: "ControllerRevision"}:               {"controllerrevisions", controllerrevision.Strategy},
	{Group: "batch", Kind: "Job"}:                             {"jobs", job.Strategy},
	{Group: "batch", Kind: "CronJob"}:                         {"cronjobs", cronjob.Strategy},
	{Group: "policy", Kind: "PodDisruptionBudget"}:            {"poddisruptionbudgets", poddisruptionbudget.Strategy},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}:       {"networkpolicies", networkpolicy.Strategy},
	{Group: "networking.k8s.io", Kind: "Ingress"}:             {"ingresses", ingress.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:        {"roles", role.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}: {"rolebindings", rolebinding.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}: {"clusterroles", clusterrole.Strategy},
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:       {"priorityclasses", priorityclass.Strategy},
	{Group: "storage.k8s.io", Kind: "StorageClass"}:           {"storageclasses", storageclass.Strategy},
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:   {"horizontalpodautoscalers", horizontalpodautoscaler.Strategy},
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:              {"runtimeclasses", runtimeclass.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: {
		"clusterrolebindings", clusterrolebinding.Strategy,
	},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}: {
		"mutatingwebhookconfigurations", mutatingwebhookconfiguration.Strategy,
	},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}: {
		"validatingwebhookconfigurations", validatingwebhookconfiguration.Strategy,
	},
}

// decoder decodes a request body as the API server does: into the served version, applying the
// scheme's defaulting, then converting to the internal version the registry works on. Strict:
// unknown and duplicate fields come back as a strict decoding error beside the object.
var decoder = serializer.NewCodecFactory(legacyscheme.Scheme, serializer.EnableStrict).UniversalDecoder()

// external converts an internal object to the version the request was made in.
func external(obj runtime.Object, gv schema.GroupVersion) (runtime.Object, error) {
	return legacyscheme.Scheme.ConvertToVersion(obj, gv)
}

func isBuiltin(gvk schema.GroupVersionKind) bool {
	_, ok := builtin[gvk.GroupKind()]
	return ok && legacyscheme.Scheme.Recognizes(gvk)
}
