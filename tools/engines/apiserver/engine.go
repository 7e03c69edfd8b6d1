package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/component-base/featuregate"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	schedulingapiv1 "k8s.io/kubernetes/pkg/apis/scheduling/v1"
	"k8s.io/kubernetes/pkg/features"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// engine is one simulated API server with its cluster state (namespaces and `cluster` objects),
// admission chain and in-process webhooks.
type engine struct {
	now          time.Time
	started      time.Time
	version      string
	plugins      []string
	webhookNames []string
	notes        []string

	chain      admission.Interface
	objects    admission.ObjectInterfaces
	state      *fake.Clientset // what the admission plugins read (namespaces, LimitRanges, ...)
	factory    informers.SharedInformerFactory
	namespaces map[string]*corev1.Namespace
	crds       map[schema.GroupKind]*crdInfo
	kueue      *kueueHarness
	servers    *webhookServers
	seeds      *seeder
	psa        policy.Evaluator
	stop       context.CancelFunc
}

// stateScheme decodes `cluster` objects of built-in kinds into client-go types.
var stateScheme = clientgoscheme.Scheme

func newEngine(parent context.Context, in *input, now time.Time) (*engine, error) {
	ctx, stop := context.WithCancel(parent)
	e := &engine{now: now, started: time.Now(), seeds: newSeeder(), namespaces: map[string]*corev1.Namespace{},
		crds: map[schema.GroupKind]*crdInfo{}, stop: stop,
		objects: admission.NewObjectInterfacesFromScheme(legacyscheme.Scheme)}
	emulated, err := e.emulate(in.KubernetesVersion)
	if err != nil {
		return nil, err
	}
	state, custom, err := e.clusterState(in)
	if err != nil {
		return nil, err
	}
	if len(in.Kueue) > 0 && string(in.Kueue) != "null" {
		e.kueue, err = newKueueHarness(ctx, in.Kueue, in.KueueFeatureGates, e.namespaceList(), custom)
		if err != nil {
			return nil, fmt.Errorf("kueue: %w", err)
		}
	}
	handlers := map[types.NamespacedName]http.Handler{}
	if e.kueue != nil {
		handlers[e.kueue.service] = e.kueue.handler
	}
	e.servers, err = newWebhookServers(handlers)
	if err != nil {
		return nil, err
	}
	state, e.webhookNames, e.notes = e.servers.adopt(state)
	e.state = fake.NewSimpleClientset(state...)
	e.factory = informers.NewSharedInformerFactory(e.state, 0)
	e.chain, e.plugins, err = buildChain(ctx, e.state, e.factory, emulated, e.servers)
	if err != nil {
		return nil, err
	}
	e.factory.Start(ctx.Done())
	for typ, ok := range e.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	if err := e.syncQuotas(ctx); err != nil {
		return nil, fmt.Errorf("resource quotas: %w", err)
	}
	psaVersion := psapi.MajorMinorVersion(int(emulated.Major()), int(emulated.Minor()))
	e.psa, err = policy.NewEvaluator(policy.DefaultChecks(), &psaVersion)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (e *engine) close() {
	e.stop()
	e.servers.close()
}

// emulate runs the 1.36 code as the requested minor (kube-apiserver --emulated-version): feature
// gates take that version's defaults. The controllers' stale-cache guards are turned off: the
// engine fills their informers synchronously, so there is no stale cache to guard against.
func (e *engine) emulate(requested string) (*version.Version, error) {
	binary := compatibility.DefaultBuildEffectiveVersion().BinaryVersion()
	if requested == "" {
		requested = fmt.Sprintf("%d.%d", binary.Major(), binary.Minor())
	}
	v, err := version.ParseMajorMinor(requested)
	if err != nil {
		return nil, fmt.Errorf("kubernetesVersion %q: %w", requested, err)
	}
	effective := compatibility.DefaultBuildEffectiveVersion()
	effective.SetEmulationVersion(v)
	if errs := effective.Validate(); len(errs) > 0 {
		allowed, _, _ := strings.Cut(effective.AllowedEmulationVersionRange(), "(")
		return nil, fmt.Errorf("kubernetesVersion %s: this engine runs Kubernetes %d.%d as %s",
			requested, binary.Major(), binary.Minor(), allowed)
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetEmulationVersion(v); err != nil {
		return nil, fmt.Errorf("emulating Kubernetes %s: %w", requested, err)
	}
	gates := map[string]bool{}
	for _, gate := range []featuregate.Feature{
		features.StaleControllerConsistencyJob,
		features.StaleControllerConsistencyReplicaSet,
		features.StaleControllerConsistencyStatefulSet,
	} {
		if utilfeature.DefaultFeatureGate.Enabled(gate) {
			gates[string(gate)] = false
		}
	}
	if len(gates) > 0 {
		if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(gates); err != nil {
			return nil, err
		}
	}
	e.version = fmt.Sprintf("%d.%d", v.Major(), v.Minor())
	return v, nil
}

// clusterState is what the cluster holds before the input objects are created: the namespaces
// (with the name label the API server adds), each namespace's `default` ServiceAccount (made by
// the service account controller), the system PriorityClasses the API server creates, and the
// `cluster` objects. Objects of kinds client-go does not know are returned separately.
func (e *engine) clusterState(in *input) ([]runtime.Object, []*unstructured.Unstructured, error) {
	var state []runtime.Object
	for _, raw := range in.Namespaces {
		ns := &corev1.Namespace{}
		if err := json.Unmarshal(raw, ns); err != nil {
			return nil, nil, fmt.Errorf("namespaces: %w", err)
		}
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
		ns.Status.Phase = corev1.NamespaceActive
		e.namespaces[ns.Name] = ns
		state = append(state, ns)
	}
	var custom []*unstructured.Unstructured
	accounts := map[string]bool{}
	classes := map[string]bool{}
	for i, raw := range in.Cluster {
		var head crdHead
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, nil, fmt.Errorf("cluster[%d]: %w", i, err)
		}
		if head.Kind == "CustomResourceDefinition" && strings.HasPrefix(head.APIVersion, "apiextensions.k8s.io/") {
			e.addCRD(head, raw)
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, nil, fmt.Errorf("cluster[%d]: %w", i, err)
		}
		gvk := u.GroupVersionKind()
		if !stateScheme.Recognizes(gvk) {
			custom = append(custom, u)
			continue
		}
		obj, _, err := clientgoscheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster[%d] %s: %w", i, gvk.Kind, err)
		}
		// Stored objects went through the API's defaulting when they were created (a webhook
		// configuration without selectors matches every namespace and object only because of it).
		legacyscheme.Scheme.Default(obj)
		switch gvk.Kind {
		case "ServiceAccount":
			accounts[u.GetNamespace()+"/"+u.GetName()] = true
		case "PriorityClass":
			classes[u.GetName()] = true
		case "Pod":
			// Existing pods are owners Kueue's pod webhook looks up (a Spark executor's owner
			// is its driver pod): its client must hold them too.
			custom = append(custom, u)
		}
		state = append(state, obj)
	}
	for _, name := range sortedKeys(e.namespaces) {
		if !accounts[name+"/default"] {
			sa := &corev1.ServiceAccount{}
			sa.Name, sa.Namespace = "default", name
			state = append(state, sa)
		}
	}
	for _, pc := range schedulingapiv1.SystemPriorityClasses() {
		if !classes[pc.Name] {
			state = append(state, pc.DeepCopy())
		}
	}
	return state, custom, nil
}

func (e *engine) namespaceList() []*corev1.Namespace {
	var list []*corev1.Namespace
	for _, name := range sortedKeys(e.namespaces) {
		list = append(list, e.namespaces[name])
	}
	return list
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	return []string{strings.TrimSpace(err.Error())}
}
