package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
	_ "unsafe" // go:linkname

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/controller/podautoscaler"
	"k8s.io/kubernetes/pkg/controller/statefulset"
)

// The controllers' sync entry points (what their workers call for a queue key) are unexported;
// the engine links to them by name.

//go:linkname syncStatefulSet k8s.io/kubernetes/pkg/controller/statefulset.(*StatefulSetController).sync
func syncStatefulSet(ssc *statefulset.StatefulSetController, ctx context.Context, key string) error

//go:linkname reconcileHPA k8s.io/kubernetes/pkg/controller/podautoscaler.(*HorizontalController).reconcileKey
func reconcileHPA(hc *podautoscaler.HorizontalController, ctx context.Context, key string) (bool, error)

// kube-controller-manager's defaults for the HPA controller's flags.
const (
	defaultStabilisation = 5 * time.Minute // --horizontal-pod-autoscaler-downscale-stabilization
	defaultTolerance     = 0.1             // --horizontal-pod-autoscaler-tolerance
	cpuInitialization    = 5 * time.Minute // --horizontal-pod-autoscaler-cpu-initialization-period
	initialReadiness     = 30 * time.Second
)

func decodeSet(raw json.RawMessage, replicas int32) (*appsv1.StatefulSet, error) {
	set := &appsv1.StatefulSet{}
	if err := json.Unmarshal(raw, set); err != nil {
		return nil, fmt.Errorf("statefulSet: %w", err)
	}
	legacyscheme.Scheme.Default(set) // the API server's apps/v1 defaulting
	if replicas > 0 {
		set.Spec.Replicas = &replicas
	}
	return set, nil
}

func run(ctx context.Context, in *input) (*output, error) {
	if in.SyncSeconds <= 0 {
		in.SyncSeconds = 15
	}
	set, err := decodeSet(in.StatefulSet, in.Replicas)
	if err != nil {
		return nil, err
	}
	set.UID = types.UID("set-" + set.Name)
	objs := []runtime.Object{set}
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	if len(in.ScaledObject) > 0 {
		if hpa, err = hpaFromScaledObject(in.ScaledObject); err != nil {
			return nil, err
		}
		objs = append(objs, hpa.DeepCopy())
	}
	c := newCluster(ctx, objs...)
	f := c.factory
	ssc := statefulset.NewStatefulSetController(ctx, f.Core().V1().Pods(), f.Apps().V1().StatefulSets(),
		f.Core().V1().PersistentVolumeClaims(), f.Apps().V1().ControllerRevisions(), c.client)
	var hc *podautoscaler.HorizontalController
	var clock *hpaClock
	metrics := &seriesMetrics{samples: in.Metrics}
	if hpa != nil {
		mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{appsv1.SchemeGroupVersion})
		mapper.Add(appsv1.SchemeGroupVersion.WithKind("StatefulSet"), meta.RESTScopeNamespace)
		hc = podautoscaler.NewHorizontalController(ctx, c.client.CoreV1(), c.scales, c.client.AutoscalingV2(), mapper,
			metrics, f.Autoscaling().V2().HorizontalPodAutoscalers(), f.Core().V1().Pods(),
			time.Duration(in.SyncSeconds)*time.Second, defaultStabilisation, defaultTolerance, cpuInitialization, initialReadiness)
		if clock, err = newHPAClock(hc); err != nil {
			return nil, err
		}
	}
	out := &output{Events: []event{}, Timeline: []snapshot{}, Notes: notes}
	if hpa != nil {
		out.HPA = hpa
	}
	var last string
	for c.now = 0; c.now <= in.DurationSeconds; c.now += in.SyncSeconds {
		if c.now > 0 && clock != nil {
			clock.advance(time.Duration(in.SyncSeconds) * time.Second)
		}
		metrics.now = c.now
		if err := c.kubelet(in.StartSeconds); err != nil {
			return nil, err
		}
		for _, loss := range in.NodeLoss {
			if loss.At == c.now {
				if err := c.loseNode(set.Namespace, loss.Pod); err != nil {
					return nil, fmt.Errorf("at %d s: node of %s: %w", c.now, loss.Pod, err)
				}
			}
		}
		if err := c.gcOrphaned(); err != nil {
			return nil, err
		}
		if r := in.Rollout; r != nil && r.At == c.now {
			if err := c.rollout(set.Namespace, set.Name, r.StatefulSet); err != nil {
				return nil, err
			}
		}
		if hc != nil {
			if err := c.fill(); err != nil {
				return nil, err
			}
			// The controller's errors (a metric it cannot read) are what its worker logs and
			// retries; the engine reports them and goes on.
			if _, err := reconcileHPA(hc, ctx, hpa.Namespace+"/"+hpa.Name); err != nil {
				c.record(event{Kind: "hpaError", Object: hpa.Name, Reason: err.Error()})
			}
		}
		// Two syncs: the first acts (creates, deletes), the second writes the status the
		// scale subresource reports.
		for range 2 {
			if err := c.fill(); err != nil {
				return nil, err
			}
			if err := syncStatefulSet(ssc, ctx, set.Namespace+"/"+set.Name); err != nil {
				return nil, fmt.Errorf("at %d s: statefulset: %w", c.now, err)
			}
		}
		snap, err := c.snapshot(set.Namespace, set.Name)
		if err != nil {
			return nil, err
		}
		if key := snapKey(snap); key != last {
			out.Timeline, last = append(out.Timeline, snap), key
		}
	}
	out.Events = c.events
	return out, nil
}

// rollout applies a new StatefulSet spec the way a client that leaves `replicas` to the HPA
// does: everything but spec.replicas changes.
func (c *cluster) rollout(ns, name string, raw json.RawMessage) error {
	current, err := c.set(ns, name)
	if err != nil {
		return err
	}
	next, err := decodeSet(raw, 0)
	if err != nil {
		return err
	}
	replicas := current.Spec.Replicas
	current.Spec = next.Spec
	current.Spec.Replicas = replicas
	current.Generation++
	c.record(event{Kind: "rollout", Object: current.Name})
	return c.client.Tracker().Update(setsGVR, current, current.Namespace)
}

func (c *cluster) snapshot(ns, name string) (snapshot, error) {
	set, err := c.set(ns, name)
	if err != nil {
		return snapshot{}, err
	}
	snap := snapshot{At: c.now, Replicas: *set.Spec.Replicas, Pods: []podState{}, Claims: []string{}}
	pods, err := c.list(podsGVR, "Pod")
	if err != nil {
		return snap, err
	}
	for _, item := range pods {
		p := item.(*corev1.Pod)
		ready := p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && c.nodeExists(p.Spec.NodeName)
		snap.Pods = append(snap.Pods, podState{p.Name, ready, p.DeletionTimestamp != nil, p.Labels[appsv1.ControllerRevisionHashLabelKey]})
	}
	claims, err := c.list(claimsGVR, "PersistentVolumeClaim")
	if err != nil {
		return snap, err
	}
	for _, item := range claims {
		snap.Claims = append(snap.Claims, item.(*corev1.PersistentVolumeClaim).Name)
	}
	sort.Slice(snap.Pods, func(i, j int) bool { return snap.Pods[i].Name < snap.Pods[j].Name })
	sort.Strings(snap.Claims)
	return snap, nil
}

func snapKey(s snapshot) string {
	b, _ := json.Marshal(struct {
		R int32
		P []podState
		C []string
	}{s.Replicas, s.Pods, s.Claims})
	return string(b)
}

var notes = []string{
	"HPA and StatefulSet controllers: k8s.io/kubernetes v1.36.0, default feature gates, kube-controller-manager's default HPA flags",
	"the HPA is built from the ScaledObject as KEDA v2.20.2's operator builds it, then defaulted by the API server's autoscaling/v2 defaulting",
	"time: the HPA controller reads the wall clock; between steps the engine ages the timestamps the controller stores by the step",
	"kubelet model: a pod is Ready startSeconds after creation; a deleted pod is gone when its deletion grace period ends (an agent that uses all of it)",
	"the garbage collector does not run: a claim owned by a deleted pod (retention policy Delete) is reported with its owners",
}
