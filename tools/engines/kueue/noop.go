package main

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// skipNoopUpdate plays the API server's rule that an update which changes nothing is not
// persisted: the resourceVersion stays and no watch event fires. controller-runtime's fake client
// bumps it on every update, which would make a controller that rewrites an unchanged object look
// busy forever.
func skipNoopUpdate(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
	stored, err := c.Scheme().New(mustGVK(c, obj))
	if err == nil {
		if current, ok := stored.(client.Object); ok && c.Get(ctx, client.ObjectKeyFromObject(obj), current) == nil {
			if sameContent(current, obj) {
				obj.SetResourceVersion(current.GetResourceVersion())
				return nil
			}
		}
	}
	return c.Update(ctx, obj, opts...)
}

func mustGVK(c client.Client, obj client.Object) (gvk schema.GroupVersionKind) {
	gvk, _ = c.GroupVersionKindFor(obj)
	return gvk
}

// sameContent compares two objects as stored, ignoring resourceVersion and managedFields.
func sameContent(a, b client.Object) bool {
	norm := func(o client.Object) map[string]any {
		cp := o.DeepCopyObject().(client.Object)
		cp.SetResourceVersion("")
		cp.SetManagedFields(nil)
		raw, _ := json.Marshal(cp)
		out := map[string]any{}
		_ = json.Unmarshal(raw, &out)
		delete(out, "kind")
		delete(out, "apiVersion")
		return out
	}
	return equality.Semantic.DeepEqual(norm(a), norm(b))
}
