package main

// ClusterRole aggregation as kube-controller-manager's clusterrole-aggregation controller does it:
// its own sync method (linked by name) over the static ClusterRole indexer, with the controller's
// server-side apply of the aggregated rules written back into the indexer. Synced until nothing
// changes, so roles that aggregate aggregated roles settle as the controller's requeues settle.

import (
	"context"
	"fmt"
	"sort"
	_ "unsafe" // go:linkname

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	rbacinformers "k8s.io/client-go/informers/rbac/v1"
	rbacclient "k8s.io/client-go/kubernetes/typed/rbac/v1"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

//go:linkname syncClusterRole k8s.io/kubernetes/pkg/controller/clusterroleaggregation.(*ClusterRoleAggregationController).syncClusterRole
func syncClusterRole(c *clusterroleaggregation.ClusterRoleAggregationController, ctx context.Context, key string) error

// maxAggregationPasses bounds the sync passes (each pass settles at least one more level).
const maxAggregationPasses = 20

// staticClusterRoles is the ClusterRole informer the controller reads: the indexer, never started.
type staticClusterRoles struct{ indexer cache.Indexer }

func (s staticClusterRoles) Informer() cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (runtime.Object, error) { return &rbacv1.ClusterRoleList{}, nil },
		WatchFunc: func(metav1.ListOptions) (watch.Interface, error) {
			return watch.NewEmptyWatch(), nil
		},
	}
	return cache.NewSharedIndexInformer(lw, &rbacv1.ClusterRole{}, 0, cache.Indexers{})
}

func (s staticClusterRoles) Lister() rbaclisters.ClusterRoleLister {
	return rbaclisters.NewClusterRoleLister(s.indexer)
}

var _ rbacinformers.ClusterRoleInformer = staticClusterRoles{}

// applyingClusterRoles takes the controller's Apply of a ClusterRole's rules into the indexer.
type applyingClusterRoles struct {
	rbacclient.ClusterRoleInterface // nil: the controller only applies
	indexer                         cache.Indexer
	applied                         *int
}

func (a applyingClusterRoles) Apply(_ context.Context, cfg *rbacv1ac.ClusterRoleApplyConfiguration,
	_ metav1.ApplyOptions) (*rbacv1.ClusterRole, error) {
	obj, ok, err := a.indexer.GetByKey(*cfg.Name)
	if err != nil || !ok {
		return nil, fmt.Errorf("rbac: aggregating unknown ClusterRole %s", *cfg.Name)
	}
	role := obj.(*rbacv1.ClusterRole).DeepCopy()
	role.Rules = []rbacv1.PolicyRule{}
	for _, r := range cfg.Rules {
		role.Rules = append(role.Rules, rbacv1.PolicyRule{
			Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources,
			ResourceNames: r.ResourceNames, NonResourceURLs: r.NonResourceURLs,
		})
	}
	*a.applied++
	return role, a.indexer.Update(role)
}

type applyingGetter struct{ roles applyingClusterRoles }

func (g applyingGetter) ClusterRoles() rbacclient.ClusterRoleInterface { return g.roles }

// aggregate fills every aggregated ClusterRole's rules; it returns their names.
func (x *rbacIndexers) aggregate(ctx context.Context) ([]string, error) {
	applied := 0
	controller := clusterroleaggregation.NewClusterRoleAggregation(
		staticClusterRoles{x.clusterRoles},
		applyingGetter{applyingClusterRoles{indexer: x.clusterRoles, applied: &applied}},
	)
	var names []string
	for _, obj := range x.clusterRoles.List() {
		if role := obj.(*rbacv1.ClusterRole); role.AggregationRule != nil {
			names = append(names, role.Name)
		}
	}
	sort.Strings(names)
	for pass := 0; pass < maxAggregationPasses; pass++ {
		applied = 0
		for _, name := range names {
			if err := syncClusterRole(controller, ctx, name); err != nil {
				return nil, err
			}
		}
		if applied == 0 {
			return names, nil
		}
	}
	return nil, fmt.Errorf("rbac: ClusterRole aggregation did not settle in %d passes", maxAggregationPasses)
}
