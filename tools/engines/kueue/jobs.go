package main

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/kueue/pkg/controller/jobframework"
	utilpod "sigs.k8s.io/kueue/pkg/util/pod"
)

// controllerKinds maps each captured job controller to the kind it reconciles: controller-runtime
// names a controller after the lower-cased kind of its For() type.
func (e *env) controllerKinds() map[string]schema.GroupVersionKind {
	out := map[string]schema.GroupVersionKind{}
	_ = jobframework.ForEachIntegration(func(_ string, cb jobframework.IntegrationCallbacks) error {
		if cb.JobType == nil {
			return nil
		}
		gvks, _, err := e.scheme.ObjectKinds(cb.JobType)
		if err == nil && len(gvks) > 0 {
			out[strings.ToLower(gvks[0].Kind)] = gvks[0]
		}
		return nil
	})
	return out
}

func (e *env) listOf(gvk schema.GroupVersionKind) (client.ObjectList, error) {
	obj, err := e.scheme.New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err != nil {
		return nil, err
	}
	list, ok := obj.(client.ObjectList)
	if !ok {
		return nil, fmt.Errorf("%s is not a list", gvk)
	}
	return list, nil
}

func metaItems(list runtime.Object) ([]client.Object, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		if co, ok := o.(client.Object); ok {
			out = append(out, co)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].GetNamespace()+"/"+out[i].GetName() < out[j].GetNamespace()+"/"+out[j].GetName()
	})
	return out, nil
}

// watchedLists are the kinds whose changes mean a controller acted.
func (e *env) watchedLists() []client.ObjectList {
	lists := []client.ObjectList{&kueue.WorkloadList{}}
	kinds := e.controllerKinds()
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if l, err := e.listOf(kinds[n]); err == nil {
			lists = append(lists, l)
		}
	}
	return lists
}

// reconcileJobs runs every captured job controller on every object of its kind, as its informer would.
func (e *env) reconcileJobs() error {
	kinds := e.controllerKinds()
	for _, c := range e.mgr.controllers {
		gvk, ok := kinds[c.name]
		if !ok { // "v1_pod", "statefulset_pod": named <qualifier>_<kind>
			gvk, ok = kinds[c.name[strings.LastIndex(c.name, "_")+1:]]
		}
		if !ok {
			continue
		}
		list, err := e.listOf(gvk)
		if err != nil {
			return err
		}
		if err := e.cl.List(e.ctx, list); err != nil {
			return err
		}
		items, err := metaItems(list)
		if err != nil {
			return err
		}
		requests := []reconcile.Request{}
		for _, o := range items {
			requests = append(requests, requestFor(o))
		}
		owned, err := e.ownersOfWorkloads(gvk)
		if err != nil {
			return err
		}
		done := map[reconcile.Request]bool{}
		for _, req := range append(requests, owned...) {
			if done[req] {
				continue
			}
			done[req] = true
			if _, err := c.do.Reconcile(e.ctx, req); err != nil {
				return fmt.Errorf("%s controller on %s: %w", c.name, req, err)
			}
		}
	}
	return nil
}

// requestFor is the request Kueue's event handlers queue for an object: a pod in a pod group (a
// StatefulSet's or LeaderWorkerSet's pods, plain pod groups) is reconciled as its group,
// "group/<namespace>/<group name>" (pkg/controller/jobs/pod/event_handlers.go).
func requestFor(o client.Object) reconcile.Request {
	if pod, ok := o.(*corev1.Pod); ok {
		if group := utilpod.GetPodGroupName(pod); group != "" {
			return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "group/" + pod.Namespace, Name: group}}
		}
	}
	return reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
}

// ownersOfWorkloads are the requests a job controller's Owns(&Workload{}) watch queues: the
// controlling owner of every Workload of that kind, whether or not the owner still exists (a
// deleted job's controller then finalizes its Workload).
func (e *env) ownersOfWorkloads(gvk schema.GroupVersionKind) ([]reconcile.Request, error) {
	var list kueue.WorkloadList
	if err := e.cl.List(e.ctx, &list); err != nil {
		return nil, err
	}
	out := []reconcile.Request{}
	for i := range list.Items {
		owner := metav1.GetControllerOf(&list.Items[i])
		if owner == nil || owner.Kind != gvk.Kind || owner.APIVersion != gvk.GroupVersion().String() {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: owner.Name}})
	}
	return out, nil
}
