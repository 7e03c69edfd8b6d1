package main

import (
	"encoding/json"
	"fmt"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
)

// setup stores the cluster's objects and hands Kueue's ones to its cache and queue manager in the
// order its controllers' event handlers would see them settle: flavors, cohorts, ClusterQueues,
// LocalQueues.
func (e *env) setup(raws []json.RawMessage) error {
	objs := make([]client.Object, 0, len(raws))
	for _, raw := range raws {
		obj, err := e.decode(raw)
		if err != nil {
			return err
		}
		if err := e.cl.Create(e.ctx, obj); err != nil {
			return fmt.Errorf("%s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		objs = append(objs, obj)
	}
	log := logr.Discard()
	for _, o := range objs {
		if rf, ok := o.(*kueue.ResourceFlavor); ok {
			e.cache.AddOrUpdateResourceFlavor(log, rf)
		}
	}
	for _, o := range objs {
		if c, ok := o.(*kueue.Cohort); ok {
			if err := e.cache.AddOrUpdateCohort(c); err != nil {
				return err
			}
			e.queues.AddOrUpdateCohort(e.ctx, c)
		}
	}
	for _, o := range objs {
		if cq, ok := o.(*kueue.ClusterQueue); ok {
			if err := e.cache.AddClusterQueue(e.ctx, cq); err != nil {
				return fmt.Errorf("ClusterQueue %s: %w", cq.Name, err)
			}
			if err := e.queues.AddClusterQueue(e.ctx, cq); err != nil {
				return fmt.Errorf("ClusterQueue %s: %w", cq.Name, err)
			}
		}
	}
	// LocalQueues stored before their ClusterQueue are picked up by AddClusterQueue (it lists them, as
	// after a restart); the LocalQueue controller's own add then reports "already exists", which Kueue
	// ignores too.
	for _, o := range objs {
		if lq, ok := o.(*kueue.LocalQueue); ok {
			_ = e.cache.AddLocalQueue(lq)
			_ = e.queues.AddLocalQueue(e.ctx, lq)
		}
	}
	return nil
}
