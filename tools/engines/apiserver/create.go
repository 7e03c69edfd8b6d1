package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
)

// warnings collects what the API server would return as Warning headers.
type warnings struct {
	mu    sync.Mutex
	lines []string
}

func (w *warnings) AddWarning(_, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, text)
}

func newResult(caller userInfo) *result {
	return &result{User: caller, Children: []*result{}, Errors: []string{}, Warnings: []string{}, Notes: []string{}}
}

// createTree creates one input object and, if the API server stores it, what its controller
// creates from it (recursively).
func (e *engine) createTree(ctx context.Context, raw []byte, caller userInfo) *result {
	r := e.create(ctx, raw, caller)
	if r.Created {
		e.addChildren(ctx, r)
	}
	return r
}

// create is one CREATE request, in the order kube-apiserver's create handler and generic
// registry store run it: decode with defaulting; mutating admission (built-in plugins, then
// webhooks); system metadata and generated name; the strategy's PrepareForCreate, Validate and
// Canonicalize (rest.BeforeCreate); validating admission (built-in plugins, then webhooks).
func (e *engine) create(ctx context.Context, raw []byte, caller userInfo) *result {
	r := newResult(caller)
	e.seeds.reseed(raw)
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		r.Errors = append(r.Errors, err.Error())
		return r
	}
	gvk := u.GroupVersionKind()
	switch {
	case isBuiltin(gvk):
		e.createBuiltin(ctx, raw, gvk, r)
	case e.crds[gvk.GroupKind()] != nil:
		e.createCustom(ctx, u, e.crds[gvk.GroupKind()], r)
	case legacySchemeKnows(gvk):
		r.Errors = append(r.Errors, fmt.Sprintf("%s is a built-in kind this engine does not store", gvk.Kind))
	default:
		r.Errors = append(r.Errors, fmt.Sprintf(
			"no API serves %s: add its CustomResourceDefinition to `cluster`", gvk.GroupVersion().WithKind(gvk.Kind)))
	}
	return r
}

type admitRequest struct {
	obj      runtime.Object
	gvk      schema.GroupVersionKind
	resource string
	strategy rest.RESTCreateStrategy
	ifaces   admission.ObjectInterfaces
}

func (e *engine) createBuiltin(ctx context.Context, raw []byte, gvk schema.GroupVersionKind, r *result) {
	info := builtin[gvk.GroupKind()]
	obj, _, err := decoder.Decode(raw, nil, nil)
	if err != nil {
		strict, ok := runtime.AsStrictDecodingError(err)
		if !ok || obj == nil {
			r.Errors = append(r.Errors, err.Error())
			r.RefusedBy = "decoding"
			return
		}
		for _, s := range strict.Errors() {
			r.Warnings = append(r.Warnings, s.Error())
		}
	}
	e.admit(ctx, admitRequest{obj: obj, gvk: gvk, resource: info.resource, strategy: info.strategy, ifaces: e.objects}, r)
}

// admit runs the admission chain and the registry strategy on a decoded (internal or
// unstructured) object and fills r.
func (e *engine) admit(ctx context.Context, req admitRequest, r *result) {
	obj, gvk := req.obj, req.gvk
	accessor, err := meta.Accessor(obj)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return
	}
	ns := accessor.GetNamespace()
	if !req.strategy.NamespaceScoped() {
		ns = ""
	} else if ns == "" {
		ns = metav1.NamespaceDefault
	}
	accessor.SetNamespace(ns)
	caller := r.User.info()
	rec := &warnings{}
	ctx = request.WithNamespace(request.WithUser(ctx, caller), ns)
	ctx = request.WithRequestInfo(ctx, &request.RequestInfo{
		IsResourceRequest: true, Verb: "create", APIPrefix: "apis", APIGroup: gvk.Group,
		APIVersion: gvk.Version, Namespace: ns, Resource: req.resource, Name: accessor.GetName(),
	})
	ctx = warning.WithWarningRecorder(ctx, rec)
	ctx, refused := withRefusal(ctx)
	defer func() { r.Warnings = append(r.Warnings, rec.lines...) }()
	gvr := gvk.GroupVersion().WithResource(req.resource)
	attrs := admission.NewAttributesRecord(obj, nil, gvk, ns, accessor.GetName(), gvr, "",
		admission.Create, &metav1.CreateOptions{}, false, caller)
	if m, ok := e.chain.(admission.MutationInterface); ok && m.Handles(admission.Create) {
		if err := m.Admit(ctx, attrs, req.ifaces); err != nil {
			r.Errors = append(r.Errors, err.Error())
			r.RefusedBy = refused.plugin
			return
		}
	}
	// The generic store: system fields (here a fixed clock and a name-derived UID instead of
	// time.Now and a random UUID), then the generated name.
	rest.FillObjectMetaSystemFields(accessor)
	if accessor.GetGenerateName() != "" && accessor.GetName() == "" {
		accessor.SetName(req.strategy.GenerateName(accessor.GetGenerateName()))
	}
	accessor.SetCreationTimestamp(metav1.NewTime(e.now))
	accessor.SetUID(uidFor(gvk.GroupVersion().String(), gvk.Kind, ns, accessor.GetName()))
	if err := rest.BeforeCreate(req.strategy, ctx, obj); err != nil {
		r.Errors = append(r.Errors, err.Error())
		r.RefusedBy = "registry"
		return
	}
	ext, err := e.toVersion(obj, gvk)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return
	}
	r.Admitted, err = e.toMap(ext)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return
	}
	r.obj, r.gk = ext, gvk.GroupKind()
	validate := rest.AdmissionToValidateObjectFunc(e.chain, attrs, req.ifaces)
	if err := validate(ctx, obj.DeepCopyObject()); err != nil {
		r.Errors = append(r.Errors, err.Error())
		r.RefusedBy = refused.plugin
	} else {
		r.Created = true
		if err := e.settleQuotas(ctx); err != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("resource quotas: %v", err))
		}
	}
	r.ReachesValidatingWebhooks = e.reachesWebhooks(r.RefusedBy)
	if pod, ok := ext.(*corev1.Pod); ok {
		r.PodSecurity = e.podSecurity(pod)
	}
	if r.Created && e.kueue != nil {
		e.kueue.observe(ctx, ext)
	}

}

// toVersion is the object in the version of the request, as a webhook receives it.
func (e *engine) toVersion(obj runtime.Object, gvk schema.GroupVersionKind) (runtime.Object, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.DeepCopy(), nil
	}
	ext, err := external(obj, gvk.GroupVersion())
	if err != nil {
		return nil, err
	}
	ext.GetObjectKind().SetGroupVersionKind(gvk)
	return ext, nil
}

// toMap is the object as JSON data. Timestamps the API server's code took from its clock while
// the engine ran (e.g. a gated pod's PodScheduled condition) read as the engine's fixed clock.
func (e *engine) toMap(obj runtime.Object) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	fixClock(out, e.started.Truncate(time.Second), e.now.Format(time.RFC3339))
	return out, nil
}

func fixClock(node any, since time.Time, now string) any {
	switch v := node.(type) {
	case map[string]any:
		for k, item := range v {
			v[k] = fixClock(item, since, now)
		}
	case []any:
		for i, item := range v {
			v[i] = fixClock(item, since, now)
		}
	case string:
		if t, err := time.Parse(time.RFC3339, v); err == nil && !t.Before(since) && !t.After(time.Now()) {
			return now
		}
	}
	return node
}

const validatingWebhookPlugin = "ValidatingAdmissionWebhook"

func legacySchemeKnows(gvk schema.GroupVersionKind) bool {
	return legacyscheme.Scheme.Recognizes(gvk)
}

// reachesWebhooks is whether a request refused by plugin (or by none) was sent to the validating
// webhooks: validating plugins run in kube-apiserver's order, so a plugin ordered after
// ValidatingAdmissionWebhook (ResourceQuota) refuses only what the webhooks let through.
func (e *engine) reachesWebhooks(plugin string) bool {
	if plugin == "" {
		return true
	}
	webhooks := slices.Index(e.plugins, validatingWebhookPlugin)
	at := slices.Index(e.plugins, plugin)
	return webhooks >= 0 && at >= webhooks
}
