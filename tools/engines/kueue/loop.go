package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	_ "unsafe" // go:linkname

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/kueue/pkg/scheduler"
	"sigs.k8s.io/kueue/pkg/util/wait"
)

// scheduleCycle is Kueue's own scheduling cycle (Scheduler.schedule), the function its Start loop runs;
// Kueue's scheduler unit tests call it the same way, one cycle at a time.
//
//go:linkname scheduleCycle sigs.k8s.io/kueue/pkg/scheduler.(*Scheduler).schedule
func scheduleCycle(s *scheduler.Scheduler, ctx context.Context) wait.SpeedSignal

const maxRounds = 200

// settle runs controllers and scheduling cycles until nothing changes: the state a user would see
// once Kueue has caught up with the step.
func (e *env) settle() error {
	for round := 0; round < maxRounds; round++ {
		before := e.fingerprint()
		if err := e.reconcileJobs(); err != nil {
			return err
		}
		if err := e.syncWorkloads(); err != nil {
			return err
		}
		e.requeuer.ProcessRequeues(e.ctx)
		scheduled := false
		if e.hasHeads() {
			scheduleCycle(e.sched, e.ctx)
			e.admissions.Wait()
			scheduled = true
		}
		if !scheduled && e.fingerprint() == before {
			return nil
		}
	}
	diff := ""
	if os.Getenv("KUEUE_ENGINE_DEBUG") != "" {
		diff = e.stillChanging()
	}
	return fmt.Errorf("kueue did not settle after %d rounds%s", maxRounds, diff)
}

// fingerprint is every watched object's content: unchanged means no controller acted. Content, not
// resourceVersion: the API server persists no update or patch that changes nothing (no new version,
// no watch event), while the fake client bumps the version on every write.
func (e *env) fingerprint() string {
	snap := e.snapshot()
	keys := make([]string, 0, len(snap))
	for k := range snap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte(snap[k]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hasHeads tells whether a scheduling cycle has work: Heads() blocks on an empty queue, so the cycle
// runs only when some ClusterQueue has an active pending workload.
func (e *env) hasHeads() bool {
	var lqs kueue.LocalQueueList
	if err := e.cl.List(e.ctx, &lqs); err != nil {
		return false
	}
	for i := range lqs.Items {
		probe := &kueue.Workload{}
		probe.Namespace = lqs.Items[i].Namespace
		probe.Spec.QueueName = kueue.LocalQueueName(lqs.Items[i].Name)
		e.queues.RLock()
		cq := e.queues.ClusterQueueForWorkloadWithoutLock(probe)
		active := 0
		if cq != nil { // the heap only: Pending() also counts the last popped ("inflight") head
			heap, _ := cq.Dump()
			active = len(heap)
		}
		e.queues.RUnlock()
		if active > 0 && e.cache.ClusterQueueActive(cq.GetName()) {
			return true
		}
	}
	return false
}

// syncWorkloads plays the Workload informer: it hands every change to the Workload controller's
// event handlers (which keep Kueue's cache and queues in step) and then reconciles the changed ones.
func (e *env) syncWorkloads() error {
	var list kueue.WorkloadList
	if err := e.cl.List(e.ctx, &list); err != nil {
		return err
	}
	current := map[types.NamespacedName]*kueue.Workload{}
	changed := []types.NamespacedName{}
	for i := range list.Items {
		wl := list.Items[i].DeepCopy()
		key := client.ObjectKeyFromObject(wl)
		current[key] = wl
		old, ok := e.seen[key]
		switch {
		case !ok:
			e.workloads.Create(event.TypedCreateEvent[*kueue.Workload]{Object: wl.DeepCopy()})
			changed = append(changed, key)
		case old.ResourceVersion != wl.ResourceVersion && !equality.Semantic.DeepEqual(old, wl):
			e.workloads.Update(event.TypedUpdateEvent[*kueue.Workload]{ObjectOld: old.DeepCopy(), ObjectNew: wl.DeepCopy()})
			changed = append(changed, key)
		}
	}
	for key, old := range e.seen {
		if _, ok := current[key]; !ok {
			e.workloads.Delete(event.TypedDeleteEvent[*kueue.Workload]{Object: old.DeepCopy()})
		}
	}
	e.seen = current
	for _, key := range changed {
		if _, err := e.workloads.Reconcile(e.ctx, reconcile.Request{NamespacedName: key}); err != nil {
			return fmt.Errorf("workload controller on %s: %w", key, err)
		}
	}
	return nil
}

// stillChanging runs one more round and shows every object a controller changed in it
// (KUEUE_ENGINE_DEBUG): what keeps Kueue from settling.
func (e *env) stillChanging() string {
	before := e.snapshot()
	_ = e.reconcileJobs()
	_ = e.syncWorkloads()
	if e.hasHeads() {
		scheduleCycle(e.sched, e.ctx)
		e.admissions.Wait()
	}
	out := ""
	var lqs kueue.LocalQueueList
	_ = e.cl.List(e.ctx, &lqs)
	for i := range lqs.Items {
		probe := &kueue.Workload{}
		probe.Namespace = lqs.Items[i].Namespace
		probe.Spec.QueueName = kueue.LocalQueueName(lqs.Items[i].Name)
		e.queues.RLock()
		cq := e.queues.ClusterQueueForWorkloadWithoutLock(probe)
		if cq != nil {
			heap, _ := cq.Dump()
			if len(heap) > 0 {
				out += fmt.Sprintf("\nheads of %s: %v", cq.GetName(), heap)
			}
		}
		e.queues.RUnlock()
	}
	for key, raw := range e.snapshot() {
		if before[key] != raw {
			out += "\n" + key + "\nbefore " + before[key] + "\nafter  " + raw
		}
	}
	return out
}

func (e *env) snapshot() map[string]string {
	out := map[string]string{}
	for _, list := range e.watchedLists() {
		if err := e.cl.List(e.ctx, list); err != nil {
			continue
		}
		items, _ := metaItems(list)
		for _, o := range items {
			o.SetManagedFields(nil)
			o.SetResourceVersion("")
			raw, _ := json.Marshal(o)
			out[fmt.Sprintf("%T/%s/%s", o, o.GetNamespace(), o.GetName())] = string(raw)
		}
	}
	return out
}
