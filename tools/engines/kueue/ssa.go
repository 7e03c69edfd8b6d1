package main

import (
	"context"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	utiltesting "sigs.k8s.io/kueue/pkg/util/testing"
)

// applyAsMerge plays server-side apply for Kueue's Workload status patches the way Kueue's own unit
// tests do (utiltesting.TreatSSAAsStrategicMerge), plus the one field-ownership rule Kueue relies on
// when it gives quota back: an apply by the manager that set status.admission which no longer
// carries it removes it (UnsetQuotaReservation).
type applyAsMerge struct {
	mu     sync.Mutex
	owners map[types.NamespacedName]string
}

func (a *applyAsMerge) patch(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	wl, ok := obj.(*kueue.Workload)
	if !ok || patch.Type() != types.ApplyPatchType || sub != "status" {
		return utiltesting.TreatSSAAsStrategicMerge(ctx, c, sub, obj, patch, opts...)
	}
	data, err := patch.Data(obj)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		return err
	}
	owner := ""
	for _, o := range opts {
		if f, ok := o.(client.FieldOwner); ok {
			owner = string(f)
		}
	}
	key := client.ObjectKeyFromObject(wl)
	status, _ := body["status"].(map[string]any)
	a.mu.Lock()
	if status != nil {
		if _, has := status["admission"]; has {
			a.owners[key] = owner
		} else if a.owners[key] == owner && owner != "" {
			status["admission"] = nil
			delete(a.owners, key)
		}
	}
	a.mu.Unlock()
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	filtered := []client.SubResourcePatchOption{}
	for _, o := range opts {
		if o != client.ForceOwnership {
			filtered = append(filtered, o)
		}
	}
	return c.SubResource(sub).Patch(ctx, obj, client.RawPatch(types.StrategicMergePatchType, raw), filtered...)
}
