package main

// A LeaderWorkerSet's children, by LWS's own code (sigs.k8s.io/lws) and the StatefulSet
// controller's (k8s.io/kubernetes): what LWS's controller, the StatefulSet controller and LWS's
// pod webhook make of one LeaderWorkerSet as the API server stored it.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	appsapplyv1 "k8s.io/client-go/applyconfigurations/apps/v1"
	appsdefaults "k8s.io/kubernetes/pkg/apis/apps/v1"
	"k8s.io/kubernetes/pkg/controller/statefulset"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"
	lwscontrollers "sigs.k8s.io/lws/pkg/controllers"
	lwsrevision "sigs.k8s.io/lws/pkg/utils/revision"
	lwswebhooks "sigs.k8s.io/lws/pkg/webhooks"

	_ "unsafe" // go:linkname
)

//go:linkname constructLeaderStatefulSet sigs.k8s.io/lws/pkg/controllers.constructLeaderStatefulSetApplyConfiguration
func constructLeaderStatefulSet(lws *lwsv1.LeaderWorkerSet, partition, replicas int32, revisionKey string) (*appsapplyv1.StatefulSetApplyConfiguration, error)

//go:linkname constructWorkerStatefulSet sigs.k8s.io/lws/pkg/controllers.constructWorkerStatefulSetApplyConfiguration
func constructWorkerStatefulSet(leaderPod corev1.Pod, lws lwsv1.LeaderWorkerSet, currentRevision *appsv1.ControllerRevision) (*appsapplyv1.StatefulSetApplyConfiguration, error)

//go:linkname setStatefulSetOwner sigs.k8s.io/lws/pkg/controllers.setControllerReferenceWithStatefulSet
func setStatefulSetOwner(owner metav1.Object, sts *appsapplyv1.StatefulSetApplyConfiguration, scheme *runtime.Scheme) error

//go:linkname newStatefulSetRevision k8s.io/kubernetes/pkg/controller/statefulset.newRevision
func newStatefulSetRevision(set *appsv1.StatefulSet, revision int64, collisionCount *int32) (*appsv1.ControllerRevision, error)

//go:linkname newVersionedStatefulSetPod k8s.io/kubernetes/pkg/controller/statefulset.newVersionedStatefulSetPod
func newVersionedStatefulSetPod(currentSet, updateSet *appsv1.StatefulSet, currentRevision, updateRevision string, ordinal int) *corev1.Pod

var (
	_ = lwscontrollers.NewPodReconciler // the packages linked above
	_ = statefulset.NewStatefulSetController
)

// lwsChildren: LWS's webhook defaulting of the LeaderWorkerSet; the leader StatefulSet its
// controller creates (revision 1, as for a new LeaderWorkerSet); the leader pods the StatefulSet
// controller creates from it, through LWS's pod webhook; for each leader the worker StatefulSet
// LWS's pod controller creates, and its pods through the pod webhook again.
func lwsChildren(ctx context.Context, s *runtime.Scheme, lws *lwsv1.LeaderWorkerSet) (result, error) {
	hook := &lwswebhooks.LeaderWorkerSetWebhook{}
	if err := hook.Default(ctx, lws); err != nil {
		return result{}, err
	}
	if _, err := hook.ValidateCreate(ctx, lws); err != nil {
		return result{}, fmt.Errorf("LWS's webhook refuses the LeaderWorkerSet: %w", err)
	}
	r := result{Children: []runtime.Object{}, Notes: []string{
		"LWS's headless Service and ControllerRevision, and the StatefulSets' ControllerRevisions, are not listed",
		"LWS is run at v0.9.0: v0.10.0 (the chart's) also copies the LeaderWorkerSet's labels and annotations onto its StatefulSets",
	}}
	if _, ok := lws.Annotations[lwsv1.ExclusiveKeyAnnotationKey]; ok {
		r.Notes = append(r.Notes, "exclusive placement: LWS creates a group's workers once its leader is scheduled; built here as if it were, without the leader's node")
	}
	if lws.Spec.StartupPolicy == lwsv1.LeaderReadyStartupPolicy {
		r.Notes = append(r.Notes, "startupPolicy LeaderReady: LWS creates a group's workers once its leader is ready; built here as if it were")
	}
	cl := fake.NewClientBuilder().WithScheme(s).Build()
	revision, err := lwsrevision.NewRevision(ctx, cl, lws, "")
	if err != nil {
		return result{}, err
	}
	key := lwsrevision.GetRevisionKey(revision)
	leaderSet, err := statefulSetOf(s, lws, func() (*appsapplyv1.StatefulSetApplyConfiguration, error) {
		return constructLeaderStatefulSet(lws, 0, *lws.Spec.Replicas, key)
	})
	if err != nil {
		return result{}, err
	}
	leaders, err := statefulSetPods(ctx, leaderSet)
	if err != nil {
		return result{}, err
	}
	r.Children = append(r.Children, leaderSet)
	for _, leader := range leaders {
		r.Children = append(r.Children, leader)
	}
	if *lws.Spec.LeaderWorkerTemplate.Size == 1 {
		return r, nil
	}
	for _, leader := range leaders {
		workerSet, err := statefulSetOf(s, leader, func() (*appsapplyv1.StatefulSetApplyConfiguration, error) {
			return constructWorkerStatefulSet(*leader, *lws, revision)
		})
		if err != nil {
			return result{}, err
		}
		workers, err := statefulSetPods(ctx, workerSet)
		if err != nil {
			return result{}, err
		}
		r.Children = append(r.Children, workerSet)
		for _, w := range workers {
			r.Children = append(r.Children, w)
		}
	}
	return r, nil
}

// statefulSetOf: the StatefulSet LWS applies, owned by owner as LWS sets it, with the API
// server's defaulting and a UID derived from the owner's.
func statefulSetOf(s *runtime.Scheme, owner metav1.Object, build func() (*appsapplyv1.StatefulSetApplyConfiguration, error)) (*appsv1.StatefulSet, error) {
	config, err := build()
	if err != nil {
		return nil, err
	}
	if err := setStatefulSetOwner(owner, config, s); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	set := &appsv1.StatefulSet{}
	if err := json.Unmarshal(raw, set); err != nil {
		return nil, err
	}
	set.APIVersion, set.Kind = "apps/v1", "StatefulSet"
	appsdefaults.SetObjectDefaults_StatefulSet(set)
	set.UID = uidFor(owner, set.Name)
	return set, nil
}

// uidFor: a UID for a child of owner named name, derived from the owner's UID (the API server
// assigns random ones): the same request gives the same UIDs.
func uidFor(owner metav1.Object, name string) types.UID {
	return types.UID(uuid.NewSHA1(uuid.NameSpaceOID, []byte(string(owner.GetUID())+"/"+name)).String())
}

// statefulSetPods: the pods the StatefulSet controller creates for a new set (every ordinal at
// its first revision), each as LWS's pod webhook leaves it, with a UID derived from the set's.
func statefulSetPods(ctx context.Context, set *appsv1.StatefulSet) ([]*corev1.Pod, error) {
	// As the controller's getStatefulSetRevisions: revision 1 of a new set, no collisions yet.
	var collisions int32
	revision, err := newStatefulSetRevision(set, 1, &collisions)
	if err != nil {
		return nil, err
	}
	start := 0
	if set.Spec.Ordinals != nil {
		start = int(set.Spec.Ordinals.Start)
	}
	hook := lwswebhooks.NewPodWebhook(nil)
	pods := []*corev1.Pod{}
	for ordinal := start; ordinal < start+int(*set.Spec.Replicas); ordinal++ {
		pod := newVersionedStatefulSetPod(set, set, revision.Name, revision.Name, ordinal)
		pod.Namespace, pod.UID = set.Namespace, uidFor(set, pod.Name)
		if err := hook.Default(ctx, pod); err != nil {
			return nil, fmt.Errorf("LWS's pod webhook on %s: %w", pod.Name, err)
		}
		pod.APIVersion, pod.Kind = "v1", "Pod"
		pods = append(pods, pod)
	}
	return pods, nil
}
