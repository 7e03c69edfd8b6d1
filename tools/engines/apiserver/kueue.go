package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"
	configapiv1beta1 "sigs.k8s.io/kueue/apis/config/v1beta1"
	configapi "sigs.k8s.io/kueue/apis/config/v1beta2"
	kueuealpha "sigs.k8s.io/kueue/apis/kueue/v1alpha1"
	kueuev1beta1 "sigs.k8s.io/kueue/apis/kueue/v1beta1"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	qcache "sigs.k8s.io/kueue/pkg/cache/queue"
	schdcache "sigs.k8s.io/kueue/pkg/cache/scheduler"
	"sigs.k8s.io/kueue/pkg/config"
	"sigs.k8s.io/kueue/pkg/constants"
	"sigs.k8s.io/kueue/pkg/controller/core/indexer"
	"sigs.k8s.io/kueue/pkg/controller/jobframework"
	"sigs.k8s.io/kueue/pkg/webhooks"

	// Kueue's integrations register themselves (as in cmd/kueue).
	_ "sigs.k8s.io/kueue/pkg/controller/jobs"
)

// kueueHarness is Kueue's webhook server as cmd/kueue sets it up from its Configuration: every
// integration's webhook (the enabled ones for real, the others as Kueue's no-op webhooks) and
// Kueue's own API webhooks, behind one handler. What the webhooks read (namespaces, LocalQueues,
// WorkloadPriorityClasses, the owners of pods) comes from a controller-runtime fake client the
// engine keeps up to date as objects are created.
type kueueHarness struct {
	scheme  *runtime.Scheme
	config  configapi.Configuration
	client  client.Client
	queues  *qcache.Manager
	handler http.Handler
	service types.NamespacedName
}

func kueueScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(kueue.AddToScheme(scheme))
	utilruntime.Must(kueuev1beta1.AddToScheme(scheme))
	utilruntime.Must(kueuealpha.AddToScheme(scheme))
	utilruntime.Must(configapiv1beta1.AddToScheme(scheme))
	utilruntime.Must(configapi.AddToScheme(scheme))
	err := jobframework.ForEachIntegration(func(_ string, cb jobframework.IntegrationCallbacks) error {
		if cb.AddToScheme != nil {
			return cb.AddToScheme(scheme)
		}
		return nil
	})
	return scheme, err
}

// loadKueueConfig loads the Configuration as cmd/kueue does: config.Load (decoding with the
// Configuration's defaults), the feature gates, then config.Validate.
func loadKueueConfig(scheme *runtime.Scheme, raw []byte, gates string) (configapi.Configuration, error) {
	dir, err := os.MkdirTemp("", "kueue-config-")
	if err != nil {
		return configapi.Configuration{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "controller_manager_config.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return configapi.Configuration{}, err
	}
	_, cfg, err := config.Load(scheme, path)
	if err != nil {
		return cfg, err
	}
	if err := config.LoadAndValidateFeatureGates(gates, cfg.FeatureGates).ToAggregate(); err != nil {
		return cfg, err
	}
	return cfg, config.Validate(&cfg, scheme).ToAggregate()
}

func newKueueHarness(ctx context.Context, raw []byte, gates string, namespaces []*corev1.Namespace,
	custom []*unstructured.Unstructured) (*kueueHarness, error) {
	scheme, err := kueueScheme()
	if err != nil {
		return nil, err
	}
	cfg, err := loadKueueConfig(scheme, raw, gates)
	if err != nil {
		return nil, err
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	for _, ns := range namespaces {
		builder = builder.WithObjects(ns.DeepCopy())
	}
	var known []client.Object
	for _, u := range custom {
		obj, err := scheme.New(u.GroupVersionKind())
		if err != nil {
			continue // not a kind Kueue reads
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		known = append(known, obj.(client.Object))
	}
	builder = builder.WithObjects(known...)
	// The indexes cmd/kueue's setupIndexes registers before the webhooks are set up.
	idx := builderIndexer{builder}
	if err := indexer.Setup(ctx, idx); err != nil {
		return nil, err
	}
	if err := jobframework.SetupIndexes(ctx, idx, jobframework.WithEnabledFrameworks(cfg.Integrations.Frameworks)); err != nil {
		return nil, err
	}
	k := &kueueHarness{scheme: scheme, config: cfg, client: builder.Build()}
	cache := schdcache.New(k.client)
	k.queues = qcache.NewManager(k.client, cache, qcache.NewRequeuer())
	if err := k.loadQueues(ctx, cache, known); err != nil {
		return nil, err
	}
	if err := k.setupWebhooks(ctx, scheme, cache); err != nil {
		return nil, err
	}
	ns := "kueue-system"
	if cfg.Namespace != nil {
		ns = *cfg.Namespace
	}
	svc := "kueue-webhook-service"
	if cfg.InternalCertManagement != nil && cfg.InternalCertManagement.WebhookServiceName != nil {
		svc = *cfg.InternalCertManagement.WebhookServiceName
	}
	k.service = types.NamespacedName{Namespace: ns, Name: svc}
	return k, nil
}

// loadQueues hands the ClusterQueues and LocalQueues to Kueue's caches, as its ClusterQueue and
// LocalQueue reconcilers do when they see them (the queue manager decides, e.g., whether a
// namespace has a `default` LocalQueue; the scheduler cache lists a ClusterQueue's LocalQueues
// itself).
func (k *kueueHarness) loadQueues(ctx context.Context, cache *schdcache.Cache, objs []client.Object) error {
	for _, obj := range objs {
		if cq, ok := obj.(*kueue.ClusterQueue); ok {
			if err := cache.AddClusterQueue(ctx, cq); err != nil {
				return fmt.Errorf("ClusterQueue %s: %w", cq.Name, err)
			}
			if err := k.queues.AddClusterQueue(ctx, cq); err != nil {
				return fmt.Errorf("ClusterQueue %s: %w", cq.Name, err)
			}
		}
	}
	for _, obj := range objs {
		if lq, ok := obj.(*kueue.LocalQueue); ok {
			if err := k.queues.AddLocalQueue(ctx, lq); err != nil {
				return fmt.Errorf("LocalQueue %s/%s: %w", lq.Namespace, lq.Name, err)
			}
		}
	}
	return nil
}

// setupWebhooks registers the webhooks as cmd/kueue's setupControllers and webhooks.Setup do.
// The manager reports no API mappings, so jobframework.SetupControllers registers every enabled
// integration's webhook and defers its reconciler (not needed here); the integrations are then
// marked enabled, as the deferred set-up does once their APIs are served.
func (k *kueueHarness) setupWebhooks(ctx context.Context, scheme *runtime.Scheme, cache *schdcache.Cache) error {
	cfg := &k.config
	mgr := &webhookManager{scheme: scheme, client: k.client, server: webhook.NewServer(webhook.Options{})}
	nsSelector, err := metav1.LabelSelectorAsSelector(cfg.ManagedJobsNamespaceSelector)
	if err != nil {
		return fmt.Errorf("managedJobsNamespaceSelector: %w", err)
	}
	opts := []jobframework.Option{
		jobframework.WithManageJobsWithoutQueueName(cfg.ManageJobsWithoutQueueName),
		jobframework.WithWaitForPodsReady(cfg.WaitForPodsReady),
		jobframework.WithEnabledFrameworks(cfg.Integrations.Frameworks),
		jobframework.WithEnabledExternalFrameworks(cfg.Integrations.ExternalFrameworks),
		jobframework.WithManagerName(constants.KueueName),
		jobframework.WithLabelKeysToCopy(sets.New(cfg.Integrations.LabelKeysToCopy...)),
		jobframework.WithCache(cache),
		jobframework.WithQueues(k.queues),
		jobframework.WithObjectRetentionPolicies(cfg.ObjectRetentionPolicies),
		jobframework.WithManagedJobsNamespaceSelector(nsSelector),
	}
	if err := jobframework.SetupControllers(ctx, mgr, logr.Discard(), opts...); err != nil {
		return err
	}
	for _, name := range cfg.Integrations.Frameworks {
		jobframework.EnableIntegration(name)
	}
	if failed, err := webhooks.Setup(mgr, nil); err != nil {
		return fmt.Errorf("webhook %s: %w", failed, err)
	}
	k.handler = mgr.server.WebhookMux()
	return nil
}

// observe tells Kueue's client about an object the API server stored.
func (k *kueueHarness) observe(ctx context.Context, obj runtime.Object) {
	if cobj, ok := typed(k.scheme, obj); ok {
		_ = k.client.Create(ctx, cobj)
	}
}

// webhookManager is the part of a controller-runtime Manager Kueue's webhook set-up uses. The
// embedded interface is nil: a set-up step that needs more fails loudly.
type webhookManager struct {
	ctrl.Manager
	scheme *runtime.Scheme
	client client.Client
	server webhook.Server
	convs  conversion.Registry
}

func (m *webhookManager) GetScheme() *runtime.Scheme           { return m.scheme }
func (m *webhookManager) GetClient() client.Client             { return m.client }
func (m *webhookManager) GetAPIReader() client.Reader          { return m.client }
func (m *webhookManager) GetWebhookServer() webhook.Server     { return m.server }
func (m *webhookManager) GetConfig() *rest.Config              { return &rest.Config{} }
func (m *webhookManager) GetLogger() logr.Logger               { return logr.Discard() }
func (m *webhookManager) GetRESTMapper() meta.RESTMapper       { return meta.NewDefaultRESTMapper(nil) }
func (m *webhookManager) GetFieldIndexer() client.FieldIndexer { return nil }
func (m *webhookManager) GetConverterRegistry() conversion.Registry {
	if m.convs == nil {
		m.convs = conversion.NewRegistry()
	}
	return m.convs
}

// builderIndexer registers Kueue's field indexes on the fake client before it is built.
type builderIndexer struct{ b *fake.ClientBuilder }

func (i builderIndexer) IndexField(_ context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	i.b.WithIndex(obj, field, extract)
	return nil
}

// typed converts an admitted object to the Go type of scheme, if the scheme knows its kind.
func typed(scheme *runtime.Scheme, obj runtime.Object) (client.Object, bool) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		out, err := scheme.New(u.GroupVersionKind())
		if err != nil {
			return nil, false
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
			return nil, false
		}
		obj = out
	} else {
		obj = obj.DeepCopyObject()
	}
	if gvks, _, err := scheme.ObjectKinds(obj); err != nil || len(gvks) == 0 {
		return nil, false
	}
	c, ok := obj.(client.Object)
	if ok {
		c.SetResourceVersion("")
	}
	return c, ok
}
