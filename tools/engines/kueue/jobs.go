package main

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/kueue/pkg/controller/jobframework"
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
		for _, o := range items {
			req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
			if _, err := c.do.Reconcile(e.ctx, req); err != nil {
				return fmt.Errorf("%s controller on %s: %w", c.name, req, err)
			}
		}
	}
	return nil
}
