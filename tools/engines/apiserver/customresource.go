package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/registry/rest"
)

// crdInfo is what apiextensions-apiserver builds per served version of a CRD: the structural
// schema (pruning and defaulting) and the custom resource strategy (schema and CEL validation).
type crdInfo struct {
	resource string
	raw      []byte
	once     sync.Once
	err      error
	versions map[string]*crdVersion
}

type crdVersion struct {
	structural *structuralschema.Structural
	strategy   rest.RESTCreateStrategy
}

// crdHead is what indexing a CRD needs; the rest is decoded when a custom resource of it is
// first created (decoding and compiling every CRD's schemas and CEL rules up front costs seconds).
type crdHead struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Group string `json:"group"`
		Names struct {
			Kind   string `json:"kind"`
			Plural string `json:"plural"`
		} `json:"names"`
	} `json:"spec"`
}

func (e *engine) addCRD(head crdHead, raw []byte) {
	gk := schema.GroupKind{Group: head.Spec.Group, Kind: head.Spec.Names.Kind}
	e.crds[gk] = &crdInfo{resource: head.Spec.Names.Plural, raw: raw, versions: map[string]*crdVersion{}}
}

func (info *crdInfo) build() error {
	info.once.Do(func() { info.err = info.buildVersions() })
	return info.err
}

func (info *crdInfo) buildVersions() error {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := json.Unmarshal(info.raw, crd); err != nil {
		return err
	}
	namespaced := crd.Spec.Scope == apiextensionsv1.NamespaceScoped
	for _, v := range crd.Spec.Versions {
		if !v.Served || v.Schema == nil {
			continue
		}
		internal := &apiextensions.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internal, nil); err != nil {
			return err
		}
		structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: %w", v.Name, err)
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			return err
		}
		var status *apiextensions.CustomResourceSubresourceStatus
		var statusValidator apiservervalidation.SchemaValidator
		if v.Subresources != nil && v.Subresources.Status != nil {
			status = &apiextensions.CustomResourceSubresourceStatus{}
			if s, ok := internal.OpenAPIV3Schema.Properties["status"]; ok {
				if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&s); err != nil {
					return err
				}
			}
		}
		var scale *apiextensions.CustomResourceSubresourceScale
		if v.Subresources != nil && v.Subresources.Scale != nil {
			scale = &apiextensions.CustomResourceSubresourceScale{}
			if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceScale_To_apiextensions_CustomResourceSubresourceScale(v.Subresources.Scale, scale, nil); err != nil {
				return err
			}
		}
		kind := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		strategy := customresource.NewStrategy(unstructuredTyper{}, namespaced, kind, validator,
			statusValidator, structural, status, scale, v.SelectableFields)
		info.versions[v.Name] = &crdVersion{structural: structural, strategy: strategy}
	}
	return nil
}

// createCustom decodes a custom resource as apiextensions-apiserver does (drop non-nullable
// nulls, prune unknown fields with a warning each, apply the schema's defaults), then admits it.
func (e *engine) createCustom(ctx context.Context, u *unstructured.Unstructured, info *crdInfo, r *result) {
	gvk := u.GroupVersionKind()
	if err := info.build(); err != nil {
		r.Errors = append(r.Errors, fmt.Sprintf("CRD of %s: %v", gvk.GroupKind(), err))
		return
	}
	v := info.versions[gvk.Version]
	if v == nil {
		r.Errors = append(r.Errors, fmt.Sprintf("version %s of %s is not served", gvk.Version, gvk.Kind))
		return
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, v.structural)
	unknown := structuralpruning.PruneWithOptions(u.Object, v.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, path := range unknown {
		r.Warnings = append(r.Warnings, fmt.Sprintf("unknown field %q", path))
	}
	structuraldefaulting.Default(u.Object, v.structural)
	ifaces := &admission.RuntimeObjectInterfaces{
		ObjectCreater:            unstructuredCreater{},
		ObjectTyper:              unstructuredTyper{},
		ObjectDefaulter:          crDefaulter{info},
		ObjectConvertor:          crConvertor{},
		EquivalentResourceMapper: runtime.NewEquivalentResourceRegistry(),
	}
	e.admit(ctx, admitRequest{obj: u, gvk: gvk, resource: info.resource, strategy: v.strategy, ifaces: ifaces}, r)
}

// crDefaulter re-applies a version's schema defaults, as the webhook dispatcher does after a
// mutating webhook's patch.
type crDefaulter struct{ info *crdInfo }

func (d crDefaulter) Default(obj runtime.Object) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	if v := d.info.versions[u.GroupVersionKind().Version]; v != nil {
		structuraldefaulting.Default(u.Object, v.structural)
	}
}

type unstructuredCreater struct{}

func (unstructuredCreater) New(kind schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(kind)
	return u, nil
}

type unstructuredTyper struct{}

func (unstructuredTyper) ObjectKinds(obj runtime.Object) ([]schema.GroupVersionKind, bool, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		return nil, false, fmt.Errorf("object has no kind")
	}
	return []schema.GroupVersionKind{gvk}, false, nil
}

func (unstructuredTyper) Recognizes(schema.GroupVersionKind) bool { return true }

// crConvertor converts between versions of a custom resource the way a CRD without a conversion
// webhook does (conversion strategy None: only apiVersion changes).
type crConvertor struct{}

func (crConvertor) Convert(in, out, _ any) error {
	src, ok1 := in.(*unstructured.Unstructured)
	dst, ok2 := out.(*unstructured.Unstructured)
	if !ok1 || !ok2 {
		return fmt.Errorf("custom resources convert only between unstructured objects")
	}
	gvk := dst.GroupVersionKind()
	dst.Object = runtime.DeepCopyJSON(src.Object)
	if !gvk.Empty() {
		dst.SetGroupVersionKind(gvk)
	}
	return nil
}

func (crConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resources convert only between unstructured objects")
	}
	gvk, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{u.GroupVersionKind()})
	if !ok {
		return nil, fmt.Errorf("cannot convert %v", u.GroupVersionKind())
	}
	out := u.DeepCopy()
	out.SetGroupVersionKind(gvk)
	return out, nil
}

func (crConvertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}
