package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	configapi "sigs.k8s.io/kueue/apis/config/v1beta2"
	kueuev1beta1 "sigs.k8s.io/kueue/apis/kueue/v1beta1"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	qcache "sigs.k8s.io/kueue/pkg/cache/queue"
	schdcache "sigs.k8s.io/kueue/pkg/cache/scheduler"
	"sigs.k8s.io/kueue/pkg/config"
	"sigs.k8s.io/kueue/pkg/controller/core"
	"sigs.k8s.io/kueue/pkg/controller/core/indexer"
	"sigs.k8s.io/kueue/pkg/controller/jobframework"
	"sigs.k8s.io/kueue/pkg/scheduler"
	preemptexpectations "sigs.k8s.io/kueue/pkg/scheduler/preemption/expectations"
	"sigs.k8s.io/kueue/pkg/scheduler/preemption/fairsharing"
	"sigs.k8s.io/kueue/pkg/util/routine"
	utiltesting "sigs.k8s.io/kueue/pkg/util/testing"
	"sigs.k8s.io/kueue/pkg/util/waitforpodsready"

	_ "sigs.k8s.io/kueue/pkg/controller/jobs/deployment"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/job"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/jobset"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/leaderworkerset"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/pod"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/raycluster"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/rayjob"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/sparkapplication"
	_ "sigs.k8s.io/kueue/pkg/controller/jobs/statefulset"
)

// Epoch is the fixed clock every run starts from; each step advances it by one second.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type requeuer interface{ ProcessRequeues(ctx context.Context) int }

type env struct {
	ctx        context.Context
	clock      *testingclock.FakeClock
	scheme     *runtime.Scheme
	cfg        configapi.Configuration
	cl         client.Client
	cache      *schdcache.Cache
	queues     *qcache.Manager
	requeuer   requeuer
	workloads  *core.WorkloadReconciler
	sched      *scheduler.Scheduler
	mgr        *fakeManager
	recorder   *utiltesting.EventRecorder
	admissions *sync.WaitGroup
	seen       map[types.NamespacedName]*kueue.Workload
	created    []json.RawMessage
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kueue.AddToScheme(s))
	utilruntime.Must(kueuev1beta1.AddToScheme(s))
	utilruntime.Must(configapi.AddToScheme(s))
	utilruntime.Must(jobframework.ForEachIntegration(func(_ string, cb jobframework.IntegrationCallbacks) error {
		if cb.AddToScheme != nil {
			return cb.AddToScheme(s)
		}
		return nil
	}))
	return s
}

// loadConfiguration reads a Kueue Configuration the way the kueue binary does (config.Load: defaults,
// then feature gates, then validation).
func loadConfiguration(s *runtime.Scheme, text string) (configapi.Configuration, error) {
	f, err := os.CreateTemp("", "kueue-config-*.yaml")
	if err != nil {
		return configapi.Configuration{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		return configapi.Configuration{}, err
	}
	f.Close()
	_, cfg, err := config.Load(s, f.Name())
	if err != nil {
		return cfg, err
	}
	if err := config.LoadAndValidateFeatureGates("", cfg.FeatureGates).ToAggregate(); err != nil {
		return cfg, err
	}
	if err := config.Validate(&cfg, s).ToAggregate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// stamp gives objects what the API server would: a creation time from the fixed clock, a UID and a
// namespace's kubernetes.io/metadata.name label.
func stamp(clock *testingclock.FakeClock) interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if ts := obj.GetCreationTimestamp(); ts.IsZero() {
				obj.SetCreationTimestamp(metav1.NewTime(clock.Now()))
			}
			if ns, ok := obj.(*corev1.Namespace); ok { // the API server labels every namespace with its name
				if ns.Labels == nil {
					ns.Labels = map[string]string{}
				}
				ns.Labels[corev1.LabelMetadataName] = ns.Name
			}
			if obj.GetUID() == "" {
				gvk, _ := c.GroupVersionKindFor(obj)
				obj.SetUID(types.UID(fmt.Sprintf("%s-%s-%s", gvk.Kind, obj.GetNamespace(), obj.GetName())))
			}
			return c.Create(ctx, obj, opts...)
		},
		Update:           skipNoopUpdate,
		SubResourcePatch: (&applyAsMerge{owners: map[types.NamespacedName]string{}}).patch,
	}
}

func newEnv(configText string) (*env, error) {
	ctrl.SetLogger(logr.Discard())
	ctx := ctrl.LoggerInto(context.Background(), logr.Discard())
	s := newScheme()
	cfg, err := loadConfiguration(s, configText)
	if err != nil {
		return nil, fmt.Errorf("kueue configuration: %w", err)
	}
	clock := testingclock.NewFakeClock(Epoch)
	builder := fake.NewClientBuilder().WithScheme(s).WithInterceptorFuncs(stamp(clock)).
		WithStatusSubresource(statusKinds(s)...)
	idx := utiltesting.AsIndexer(builder)
	if err := indexer.Setup(ctx, idx); err != nil {
		return nil, err
	}
	if err := jobframework.SetupIndexes(ctx, idx, jobframework.WithEnabledFrameworks(cfg.Integrations.Frameworks)); err != nil {
		return nil, err
	}
	e := &env{ctx: ctx, clock: clock, scheme: s, cfg: cfg, recorder: &utiltesting.EventRecorder{},
		admissions: &sync.WaitGroup{}, seen: map[types.NamespacedName]*kueue.Workload{}}
	e.cl = idx.(interface{ Build() client.WithWatch }).Build()
	e.buildCore()
	if err := e.setupIntegrations(idx); err != nil {
		return nil, err
	}
	return e, nil
}

func statusKinds(s *runtime.Scheme) []client.Object {
	out := []client.Object{}
	for _, kind := range []string{"Workload", "ClusterQueue", "LocalQueue", "Cohort", "Job", "JobSet", "LeaderWorkerSet",
		"RayJob", "RayCluster", "Pod", "Deployment", "StatefulSet"} {
		for gvk := range s.AllKnownTypes() {
			if gvk.Kind == kind && gvk.Version != "__internal" {
				if obj, err := s.New(gvk); err == nil {
					if co, ok := obj.(client.Object); ok {
						out = append(out, co)
					}
				}
			}
		}
	}
	return out
}

// buildCore wires the scheduler cache, the queue manager, the Workload controller and the scheduler as
// cmd/kueue/main.go does for this Configuration.
func (e *env) buildCore() {
	cfg := &e.cfg
	block := waitforpodsready.Enabled(cfg.WaitForPodsReady) && cfg.WaitForPodsReady.BlockAdmission != nil &&
		*cfg.WaitForPodsReady.BlockAdmission
	cacheOpts := []schdcache.Option{schdcache.WithPodsReadyTracking(block)}
	queueOpts := []qcache.Option{qcache.WithClock(e.clock), qcache.WithPodsReadyRequeuingTimestamp(requeuingTimestamp(cfg))}
	if cfg.Resources != nil && len(cfg.Resources.ExcludeResourcePrefixes) > 0 {
		cacheOpts = append(cacheOpts, schdcache.WithExcludedResourcePrefixes(cfg.Resources.ExcludeResourcePrefixes))
		queueOpts = append(queueOpts, qcache.WithExcludedResourcePrefixes(cfg.Resources.ExcludeResourcePrefixes))
	}
	if cfg.Resources != nil && len(cfg.Resources.Transformations) > 0 {
		cacheOpts = append(cacheOpts, schdcache.WithResourceTransformations(cfg.Resources.Transformations))
		queueOpts = append(queueOpts, qcache.WithResourceTransformations(cfg.Resources.Transformations))
	}
	if cfg.FairSharing != nil {
		cacheOpts = append(cacheOpts, schdcache.WithFairSharing(fairsharing.Enabled(cfg.FairSharing)))
	}
	if cfg.AdmissionFairSharing != nil {
		queueOpts = append(queueOpts, qcache.WithAdmissionFairSharing(cfg.AdmissionFairSharing))
		cacheOpts = append(cacheOpts, schdcache.WithAdmissionFairSharing(cfg.AdmissionFairSharing))
	}
	e.cache = schdcache.New(e.cl, cacheOpts...)
	expectations := preemptexpectations.New()
	queueOpts = append(queueOpts, qcache.WithPreemptionExpectations(expectations))
	e.queues, e.requeuer = qcache.NewManagerForUnitTestsWithRequeuer(e.cl, e.cache, queueOpts...)
	e.workloads = core.NewWorkloadReconciler(e.cl, e.queues, e.cache, e.recorder,
		core.WithPreemptionExpectations(expectations),
		core.WithAdmissionFairSharing(cfg.AdmissionFairSharing))
	setClock(e.workloads, e.clock)
	// Admissions run in a goroutine in Kueue; count them so each cycle can wait for its own.
	routine.DefaultWrapper = routine.NewWrapper(func() { e.admissions.Add(1) }, func() { e.admissions.Done() })
	e.sched = scheduler.New(e.queues, e.cache, e.cl, e.recorder,
		scheduler.WithClock(nil, e.clock),
		scheduler.WithPodsReadyRequeuingTimestamp(requeuingTimestamp(cfg)),
		scheduler.WithFairSharing(cfg.FairSharing),
		scheduler.WithAdmissionFairSharing(cfg.AdmissionFairSharing),
		scheduler.WithPreemptionExpectations(expectations))
}

func requeuingTimestamp(cfg *configapi.Configuration) configapi.RequeuingTimestamp {
	if cfg.WaitForPodsReady != nil && cfg.WaitForPodsReady.RequeuingStrategy != nil &&
		cfg.WaitForPodsReady.RequeuingStrategy.Timestamp != nil {
		return *cfg.WaitForPodsReady.RequeuingStrategy.Timestamp
	}
	return configapi.EvictionTimestamp
}

// setupIntegrations runs Kueue's own jobframework.SetupControllers against the stand-in manager.
func (e *env) setupIntegrations(idx client.FieldIndexer) error {
	cfg := &e.cfg
	selector, err := metav1.LabelSelectorAsSelector(cfg.ManagedJobsNamespaceSelector)
	if err != nil {
		return err
	}
	e.mgr = newFakeManager(e.scheme, e.cl, idx, e.recorder)
	opts := []jobframework.Option{
		jobframework.WithManageJobsWithoutQueueName(cfg.ManageJobsWithoutQueueName),
		jobframework.WithWaitForPodsReady(cfg.WaitForPodsReady),
		jobframework.WithEnabledFrameworks(cfg.Integrations.Frameworks),
		jobframework.WithEnabledExternalFrameworks(cfg.Integrations.ExternalFrameworks),
		jobframework.WithManagerName("kueue"),
		jobframework.WithLabelKeysToCopy(sets.New(cfg.Integrations.LabelKeysToCopy...)),
		jobframework.WithCache(e.cache),
		jobframework.WithQueues(e.queues),
		jobframework.WithObjectRetentionPolicies(cfg.ObjectRetentionPolicies),
		jobframework.WithClock(e.clock),
		jobframework.WithManagedJobsNamespaceSelector(selector),
	}
	return jobframework.SetupControllers(e.ctx, e.mgr, logr.Discard(), opts...)
}
