package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/informers"
	kfake "k8s.io/client-go/kubernetes/fake"
	fakescale "k8s.io/client-go/scale/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	api "k8s.io/kubernetes/pkg/apis/core"
	podregistry "k8s.io/kubernetes/pkg/registry/core/pod"
)

var (
	podsGVR   = corev1.SchemeGroupVersion.WithResource("pods")
	claimsGVR = corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims")
	setsGVR   = appsv1.SchemeGroupVersion.WithResource("statefulsets")
	hpasGVR   = autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers")
	revsGVR   = appsv1.SchemeGroupVersion.WithResource("controllerrevisions")
	nodesGVR  = corev1.SchemeGroupVersion.WithResource("nodes")
)

// cluster is the API server as the two controllers see it: one fake clientset (and a fake
// scale client over the same store) with the API server's behaviour where the timeline depends
// on it: UIDs and creation times on create, graceful pod deletion through the pod registry
// strategy, and the StatefulSet scale subresource.
type cluster struct {
	ctx     context.Context
	client  *kfake.Clientset
	scales  *fakescale.FakeScaleClient
	factory informers.SharedInformerFactory
	base    time.Time
	now     int // virtual seconds since base
	serial  int
	events  []event
	born    map[types.UID]int // pod UID -> virtual creation second
}

func newCluster(ctx context.Context, objs ...runtime.Object) *cluster {
	c := &cluster{ctx: ctx, client: kfake.NewSimpleClientset(), base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), born: map[types.UID]int{}}
	for _, o := range objs {
		_ = c.client.Tracker().Add(o)
	}
	c.client.PrependReactor("create", "*", c.onCreate)
	c.client.PrependReactor("delete", "pods", c.onDeletePod)
	c.client.PrependReactor("update", "persistentvolumeclaims", c.onUpdateClaim)
	c.scales = &fakescale.FakeScaleClient{}
	c.scales.AddReactor("get", "statefulsets", c.getScale)
	c.scales.AddReactor("update", "statefulsets", c.updateScale)
	c.factory = informers.NewSharedInformerFactory(c.client, 0)
	return c
}

func (c *cluster) at() metav1.Time {
	return metav1.NewTime(c.base.Add(time.Duration(c.now) * time.Second))
}

// onCreate gives the object a UID and creation time (the generic store's BeforeCreate) and
// lets the tracker store it.
func (c *cluster) onCreate(action k8stesting.Action) (bool, runtime.Object, error) {
	obj := action.(k8stesting.CreateAction).GetObject()
	switch obj.(type) {
	case *corev1.Pod, *corev1.PersistentVolumeClaim, *appsv1.ControllerRevision:
	default:
		return false, nil, nil // events the recorders send, from their own goroutines
	}
	m, err := meta.Accessor(obj)
	if err != nil || action.GetSubresource() != "" {
		return false, nil, nil
	}
	// The request's namespace is the URL's (client-go sends the controller's pods without one).
	if action.GetNamespace() != "" {
		m.SetNamespace(action.GetNamespace())
	}
	c.serial++
	m.SetUID(types.UID(fmt.Sprintf("%s-%d", m.GetName(), c.serial)))
	m.SetCreationTimestamp(c.at())
	switch o := obj.(type) {
	case *corev1.Pod:
		// The pod registry strategy's PrepareForCreate (phase Pending, QoS class, ...).
		if err := prepareForCreate(c.ctx, o); err != nil {
			return true, nil, err
		}
		c.born[o.UID] = c.now
		claims := map[string]string{}
		for _, v := range o.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				claims[v.PersistentVolumeClaim.ClaimName] = c.claimUID(o.Namespace, v.PersistentVolumeClaim.ClaimName)
			}
		}
		c.record(event{Kind: "podCreated", Object: o.Name, UID: string(o.UID), Claims: claims, Revision: o.Labels[appsv1.ControllerRevisionHashLabelKey]})
	case *corev1.PersistentVolumeClaim:
		c.record(event{Kind: "claimCreated", Object: o.Name, UID: string(o.UID)})
	}
	return false, nil, nil
}

func (c *cluster) claimUID(ns, name string) string {
	obj, err := c.client.Tracker().Get(claimsGVR, ns, name)
	if err != nil {
		return ""
	}
	return string(obj.(*corev1.PersistentVolumeClaim).UID)
}

// onUpdateClaim records the owners the StatefulSet controller gives a claim (its retention
// policy: a claim owned by a pod or the set goes with it).
func (c *cluster) onUpdateClaim(action k8stesting.Action) (bool, runtime.Object, error) {
	claim, ok := action.(k8stesting.UpdateAction).GetObject().(*corev1.PersistentVolumeClaim)
	if !ok {
		return false, nil, nil
	}
	owners := []string{}
	for _, o := range claim.OwnerReferences {
		owners = append(owners, o.Kind+"/"+o.Name)
	}
	c.record(event{Kind: "claimOwners", Object: claim.Name, UID: string(claim.UID), Owners: owners})
	return false, nil, nil
}

// onDeletePod is the API server's graceful pod deletion: rest.BeforeDelete with the pod registry
// strategy decides the grace period (the DeleteOptions', else the pod's
// terminationGracePeriodSeconds; 0 for an unscheduled or finished pod). A graceful deletion
// stores deletionTimestamp = now + grace; the kubelet model removes the pod at that time.
func (c *cluster) onDeletePod(action k8stesting.Action) (bool, runtime.Object, error) {
	del := action.(k8stesting.DeleteAction)
	obj, err := c.client.Tracker().Get(podsGVR, del.GetNamespace(), del.GetName())
	if err != nil {
		return true, nil, err
	}
	pod := obj.(*corev1.Pod).DeepCopy()
	if pod.DeletionTimestamp != nil {
		return true, nil, nil
	}
	internal := &api.Pod{}
	if err := legacyscheme.Scheme.Convert(pod, internal, nil); err != nil {
		return true, nil, err
	}
	opts := del.GetDeleteOptions()
	graceful, _, err := rest.BeforeDelete(podregistry.Strategy, c.ctx, internal, &opts)
	if err != nil {
		return true, nil, err
	}
	grace := int64(0)
	if graceful && opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	var preStop []string
	for _, ctr := range pod.Spec.Containers {
		if !c.nodeExists(pod.Spec.NodeName) {
			break // no kubelet to call it
		}
		if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.HTTPGet != nil {
			preStop = append(preStop, ctr.Lifecycle.PreStop.HTTPGet.Path)
		}
	}
	c.record(event{Kind: "podDeleted", Object: pod.Name, UID: string(pod.UID), GraceSeconds: &grace,
		Reason: c.deletionReason(pod), PreStop: preStop})
	if grace == 0 {
		c.record(event{Kind: "podGone", Object: pod.Name, UID: string(pod.UID)})
		return true, nil, c.client.Tracker().Delete(podsGVR, pod.Namespace, pod.Name)
	}
	when := metav1.NewTime(c.at().Add(time.Duration(grace) * time.Second))
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &when, &grace
	return true, nil, c.client.Tracker().Update(podsGVR, pod, pod.Namespace)
}

// getScale and updateScale are the StatefulSet scale subresource (pkg/registry/apps/statefulset
// storage): spec.replicas, status.replicas and the selector of spec.selector.
func (c *cluster) getScale(action k8stesting.Action) (bool, runtime.Object, error) {
	get := action.(k8stesting.GetAction)
	set, err := c.set(get.GetNamespace(), get.GetName())
	if err != nil {
		return true, nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return true, nil, err
	}
	return true, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: set.Name, Namespace: set.Namespace, ResourceVersion: set.ResourceVersion},
		Spec:       autoscalingv1.ScaleSpec{Replicas: *set.Spec.Replicas},
		Status:     autoscalingv1.ScaleStatus{Replicas: set.Status.Replicas, Selector: sel.String()},
	}, nil
}

func (c *cluster) updateScale(action k8stesting.Action) (bool, runtime.Object, error) {
	scale := action.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
	set, err := c.set(scale.Namespace, scale.Name)
	if err != nil {
		return true, nil, err
	}
	from, to := *set.Spec.Replicas, scale.Spec.Replicas
	set.Spec.Replicas = &to
	c.record(event{Kind: "rescale", Object: set.Name, From: &from, To: &to})
	return true, scale, c.client.Tracker().Update(setsGVR, set, set.Namespace)
}

func (c *cluster) set(ns, name string) (*appsv1.StatefulSet, error) {
	obj, err := c.client.Tracker().Get(setsGVR, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.StatefulSet).DeepCopy(), nil
}

func (c *cluster) record(e event) {
	e.At = c.now
	c.events = append(c.events, e)
}

func (c *cluster) list(gvr schema.GroupVersionResource, kind string) ([]runtime.Object, error) {
	list, err := c.client.Tracker().List(gvr, gvr.GroupVersion().WithKind(kind), "")
	if err != nil {
		return nil, err
	}
	return meta.ExtractList(list)
}

// fill replaces what the informers hold with what the store holds (the controllers read
// listers; their informers are never started, so every step sees the store as it is).
func (c *cluster) fill() error {
	f := c.factory
	sources := []struct {
		informer cache.SharedIndexInformer
		gvr      schema.GroupVersionResource
		kind     string
	}{
		{f.Core().V1().Pods().Informer(), podsGVR, "Pod"},
		{f.Core().V1().PersistentVolumeClaims().Informer(), claimsGVR, "PersistentVolumeClaim"},
		{f.Apps().V1().StatefulSets().Informer(), setsGVR, "StatefulSet"},
		{f.Apps().V1().ControllerRevisions().Informer(), revsGVR, "ControllerRevision"},
		{f.Autoscaling().V2().HorizontalPodAutoscalers().Informer(), hpasGVR, "HorizontalPodAutoscaler"},
		{f.Core().V1().Nodes().Informer(), nodesGVR, "Node"},
	}
	for _, s := range sources {
		items, err := c.list(s.gvr, s.kind)
		if err != nil {
			return err
		}
		objs := make([]any, 0, len(items))
		for _, item := range items {
			objs = append(objs, item)
		}
		if err := s.informer.GetIndexer().Replace(objs, ""); err != nil {
			return err
		}
	}
	return nil
}

// kubelet is what the node side does between two steps: a pod whose deletion grace has ended
// is gone (the kubelet killed its containers at the latest then, and the API server removes
// it); a pod `start` seconds old is scheduled, Running and Ready.
func (c *cluster) kubelet(start int) error {
	items, err := c.list(podsGVR, "Pod")
	if err != nil {
		return err
	}
	now := c.at()
	for _, item := range items {
		pod := item.(*corev1.Pod).DeepCopy()
		if pod.DeletionTimestamp != nil {
			if !pod.DeletionTimestamp.After(now.Time) {
				c.record(event{Kind: "podGone", Object: pod.Name, UID: string(pod.UID)})
				if err := c.client.Tracker().Delete(podsGVR, pod.Namespace, pod.Name); err != nil {
					return err
				}
			}
			continue
		}
		if pod.Status.Phase == corev1.PodRunning || c.now-c.born[pod.UID] < start {
			continue
		}
		pod.Spec.NodeName = nodeName(pod)
		if err := c.register(pod.Spec.NodeName); err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.StartTime = &now
		// Ready since well before the controllers' wall clock (minReadySeconds counts from it).
		since := metav1.NewTime(time.Now().Add(-time.Hour))
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: since}}
		c.record(event{Kind: "podReady", Object: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName})
		if err := c.client.Tracker().Update(podsGVR, pod, pod.Namespace); err != nil {
			return err
		}
	}
	return nil
}

func prepareForCreate(ctx context.Context, pod *corev1.Pod) error {
	internal := &api.Pod{}
	if err := legacyscheme.Scheme.Convert(pod, internal, nil); err != nil {
		return err
	}
	podregistry.Strategy.PrepareForCreate(ctx, internal)
	return legacyscheme.Scheme.Convert(internal, pod, nil)
}

// deletionReason: a pod deleted for a disruption carries its DisruptionTarget reason (pod GC:
// DeletionByPodGC). The StatefulSet controller deletes a pod whose ordinal is at or above
// spec.replicas because the set was scaled down (condemned), any other because its revision is
// not the set's update revision (a rolling update).
func (c *cluster) deletionReason(pod *corev1.Pod) string {
	if reason := disruption(pod); reason != "" {
		return reason
	}
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return ""
	}
	set, err := c.set(pod.Namespace, ref.Name)
	if err != nil {
		return ""
	}
	ordinal, err := strconv.Atoi(pod.Labels[appsv1.PodIndexLabel])
	if err == nil && int32(ordinal) >= *set.Spec.Replicas {
		return "scale-down"
	}
	return "rollout"
}
