package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	quotainstall "k8s.io/kubernetes/pkg/quota/v1/install"
)

// syncQuotas gives each ResourceQuota of the cluster state the status kube-controller-manager's
// resource quota controller writes before any request arrives (its syncResourceQuota): hard is
// spec.hard, used is what the namespace's existing objects use, computed by the controller's own
// evaluators. The ResourceQuota admission plugin then charges each admitted request against it
// (and refuses every request in a namespace whose quota has no status yet, as on a real cluster
// before the controller's first sync).
func (e *engine) syncQuotas(ctx context.Context) error {
	quotas, err := e.state.CoreV1().ResourceQuotas(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil || len(quotas.Items) == 0 {
		return err
	}
	config, err := quotainstall.NewQuotaConfigurationForControllers(
		generic.ListerFuncForResourceFunc(e.factory.ForResource), e.factory)
	if err != nil {
		return err
	}
	listers := generic.ListerFuncForResourceFunc(e.factory.ForResource)
	evaluators := config.Evaluators()
	for _, evaluator := range evaluators {
		if _, err := e.factory.ForResource(evaluator.GroupResource().WithVersion("v1")); err != nil {
			return fmt.Errorf("quota evaluator for %v: %w", evaluator.GroupResource(), err)
		}
	}
	// The controller's quota monitor adds an object-count evaluator for every other resource
	// it discovers; here, for each `count/<resource>.<group>` a quota names.
	have := map[schema.GroupResource]bool{}
	for _, evaluator := range evaluators {
		have[evaluator.GroupResource()] = true
	}
	for _, rq := range quotas.Items {
		for name := range rq.Spec.Hard {
			counted, ok := strings.CutPrefix(string(name), "count/")
			gr := schema.ParseGroupResource(counted)
			if !ok || have[gr] {
				continue
			}
			versions := legacyscheme.Scheme.PrioritizedVersionsForGroup(gr.Group)
			if len(versions) == 0 {
				return fmt.Errorf("quota %s/%s: %s is not a resource this API server serves", rq.Namespace, rq.Name, name)
			}
			gvr := gr.WithVersion(versions[0].Version)
			if _, err := e.factory.ForResource(gvr); err != nil {
				return fmt.Errorf("quota %s/%s: %s: %w", rq.Namespace, rq.Name, name, err)
			}
			evaluators = append(evaluators, generic.NewObjectCountEvaluator(gr, generic.ListResourceUsingListerFunc(listers, gvr), ""))
			have[gr] = true
		}
	}
	e.factory.Start(ctx.Done())
	for typ, ok := range e.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	registry := generic.NewRegistry(evaluators)
	for i := range quotas.Items {
		rq := &quotas.Items[i]
		hard := quota.Add(corev1.ResourceList{}, rq.Spec.Hard)
		used, err := quota.CalculateUsage(rq.Namespace, rq.Spec.Scopes, hard, registry, rq.Spec.ScopeSelector)
		if err != nil {
			return fmt.Errorf("quota %s/%s: %w", rq.Namespace, rq.Name, err)
		}
		rq.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: quota.Mask(used, quota.ResourceNames(hard))}
		if _, err := e.state.CoreV1().ResourceQuotas(rq.Namespace).UpdateStatus(ctx, rq, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("quota %s/%s: %w", rq.Namespace, rq.Name, err)
		}
	}
	// The admission plugin reads quotas from the informer: wait until it has every status.
	lister := e.factory.Core().V1().ResourceQuotas().Lister()
	return wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) {
			seen, err := lister.List(labels.Everything())
			if err != nil {
				return false, err
			}
			for _, rq := range seen {
				if rq.Status.Hard == nil {
					return false, nil
				}
			}
			return len(seen) == len(quotas.Items), nil
		})
}

// settleQuotas waits until the informer the ResourceQuota plugin reads from holds the usage the
// plugin last wrote for every quota. kube-apiserver finds its own writes through a look-aside
// cache keyed by etcd resource versions, which the engine's client does not assign, so without
// this the next request could be charged against usage from before the last one.
func (e *engine) settleQuotas(ctx context.Context) error {
	written, err := e.state.CoreV1().ResourceQuotas(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil || len(written.Items) == 0 {
		return err
	}
	lister := e.factory.Core().V1().ResourceQuotas().Lister()
	return wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) {
			for i := range written.Items {
				want := &written.Items[i]
				seen, err := lister.ResourceQuotas(want.Namespace).Get(want.Name)
				if err != nil || !quota.Equals(seen.Status.Used, want.Status.Used) {
					return false, nil
				}
			}
			return true, nil
		})
}
