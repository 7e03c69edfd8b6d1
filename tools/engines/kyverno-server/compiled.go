package main

// Compiled policies kept between requests.
//
// The CLI's PolicyProcessor compiles every ValidatingPolicy, and its autogen variants, for every
// object it is given (vpolengine.NewProvider inside ApplyPoliciesOnResource): nearly all of the
// server's CPU. For a request whose policies are all Kubernetes-mode ValidatingPolicies (what
// the stacks render) and which carries no exceptions, the server instead builds the provider
// once per policy set and runs, per object, the steps of the processor's ValidatingPolicy branch
// (kyverno v1.19.0 cmd/cli/kubectl-kyverno/processor/policy_processor.go, "validating
// policies", for a local run without a cluster client): the CLI's context provider over the
// context file, vpolengine.NewEngine with the values' namespaces and Kyverno's matcher, the
// object's GVR from the REST mapper (or guessed from the kind, then from the policies' match
// constraints), the admission request the CLI builds (AdmissionRequestShape for the values'
// operation) and the engine's Handle. Policy responses become engine responses as the
// processor makes them, including its rule of dropping a policy that produced no rule when
// its match constraints are a single plain resource rule. Anything else (JSON-mode policies)
// goes through the processor as before.
//
// Kyverno's compiler binds the CEL libraries that read the cluster (resource.Get/List, ...) to
// the library context current at compile time (libs.GetLibsCtx()), which the processor sets to
// the context provider it has just made from the request's context file. Compiled once, the
// policies are bound instead to a switchboard context that forwards every call to the context
// provider made for the object being evaluated: the same provider the processor would have
// compiled them against.

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/go-git/go-billy/v5"
	policieskyvernoio "github.com/kyverno/api/api/policies.kyverno.io"
	policiesv1beta1 "github.com/kyverno/api/api/policies.kyverno.io/v1beta1"
	kyvernov2 "github.com/kyverno/kyverno/api/kyverno/v2"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/processor"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/store"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/variables"
	celengine "github.com/kyverno/kyverno/pkg/cel/engine"
	"github.com/kyverno/kyverno/pkg/cel/libs"
	"github.com/kyverno/kyverno/pkg/cel/matching"
	vpolcompiler "github.com/kyverno/kyverno/pkg/cel/policies/vpol/compiler"
	vpolengine "github.com/kyverno/kyverno/pkg/cel/policies/vpol/engine"
	engineapi "github.com/kyverno/kyverno/pkg/engine/api"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// switchboard is a libs.Context that forwards to the provider of the current evaluation.
type switchboard struct {
	libs.Context
}

// compiledSet is one policy set's provider, built once (from copies no request touches).
type compiledSet struct {
	policies []policiesv1beta1.ValidatingPolicyLike
	provider vpolengine.ProviderFunc
}

// compiledFor returns the set's provider, or nil when the set is not served this way.
func (s *server) compiledFor(key [sha256.Size]byte, vps []policiesv1beta1.ValidatingPolicyLike) (*compiledSet, error) {
	if set, ok := s.compiled[key]; ok {
		return set, nil
	}
	own := make([]policiesv1beta1.ValidatingPolicyLike, 0, len(vps))
	for _, vp := range vps {
		if vp.GetValidatingPolicySpec().EvaluationMode() == policieskyvernoio.EvaluationModeJSON {
			return nil, nil
		}
		own = append(own, vp.DeepCopyObject().(policiesv1beta1.ValidatingPolicyLike))
	}
	// what the compiler binds the libraries to (any evaluation switches it first)
	s.board.Context = libs.NewFakeContextProvider()
	libs.LibraryContext = s.board
	provider, err := vpolengine.NewProvider(vpolcompiler.NewCompiler(), own, nil)
	if err != nil {
		return nil, err
	}
	if len(s.compiled) >= cachedSets {
		clear(s.compiled)
	}
	set := &compiledSet{policies: own, provider: provider}
	s.compiled[key] = set
	return set, nil
}

// applyCompiled answers every object with the set's compiled policies.
func (s *server) applyCompiled(
	set *compiledSet,
	resources []*unstructured.Unstructured,
	vars *variables.Variables,
	userInfo *kyvernov2.RequestInfo,
	fs billy.Filesystem,
	st *store.Store,
) ([]engineapi.EngineResponse, error) {
	var user authenticationv1.UserInfo
	if userInfo != nil {
		user = userInfo.AdmissionUserInfo
	}
	operation := ""
	if op, err := processor.NormalizeOperation(vars.GlobalOperation()); err == nil {
		operation = op
	}
	var responses []engineapi.EngineResponse
	for _, r := range resources {
		if r.Object == nil {
			continue
		}
		out, err := s.applyOne(set, *r, vars, user, operation, fs, st)
		if err != nil {
			return nil, err
		}
		responses = append(responses, out...)
	}
	return responses, nil
}

func (s *server) applyOne(
	set *compiledSet,
	resource unstructured.Unstructured,
	vars *variables.Variables,
	user authenticationv1.UserInfo,
	operation string,
	fs billy.Filesystem,
	st *store.Store,
) ([]engineapi.EngineResponse, error) {
	gvk := topLevel(resource.GroupVersionKind(), vars)
	contextProvider, err := processor.NewContextProvider(nil, s.mapper, fs, contextFile, true, true, nil, st.GetHTTPMockIndex())
	if err != nil {
		return nil, err
	}
	s.board.Context = contextProvider
	eng := vpolengine.NewEngine(set.provider, vars.Namespace, matching.NewMatcher())
	gvr, err := s.resourceOf(gvk, set.policies)
	if err != nil {
		return nil, err
	}
	op, object, oldObject := processor.AdmissionRequestShape(operation, &resource)
	request := celengine.Request(contextProvider, gvk, gvr, "", resource.GetName(), resource.GetNamespace(),
		op, user, object, oldObject, false, nil)
	reps, err := eng.Handle(context.TODO(), request, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to apply validating policies on resource %s (%w)", resource.GetName(), err)
	}
	var responses []engineapi.EngineResponse
	for _, r := range reps.Policies {
		if len(r.Rules) == 0 && hasSelector(r.Policy.GetSpec().MatchConstraints) {
			continue
		}
		response := engineapi.EngineResponse{
			Resource:       *reps.Resource,
			PolicyResponse: engineapi.PolicyResponse{Rules: r.Rules},
		}
		responses = append(responses, response.WithPolicy(engineapi.NewValidatingPolicyFromLike(r.Policy)))
	}
	return responses, nil
}

// topLevel is the processor's GVK for a local run: a declared subresource's parent.
func topLevel(gvk schema.GroupVersionKind, vars *variables.Variables) schema.GroupVersionKind {
	for _, s := range vars.Subresources() {
		sub := schema.GroupVersionKind{Group: s.Subresource.Group, Version: s.Subresource.Version, Kind: s.Subresource.Kind}
		if gvk == sub {
			gvk = schema.GroupVersionKind{Group: s.ParentResource.Group, Version: s.ParentResource.Version, Kind: s.ParentResource.Kind}
		}
	}
	return gvk
}

// resourceOf maps the GVK to its GVR as the processor does without a cluster: the REST mapper,
// else the kind's guessed plural, else a resource of the policies' match constraints named
// like the kind.
func (s *server) resourceOf(gvk schema.GroupVersionKind, vps []policiesv1beta1.ValidatingPolicyLike) (schema.GroupVersionResource, error) {
	if mapping, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
		return mapping.Resource, nil
	}
	gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version}
	if guessed, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Kind: gvk.Kind}); guessed.Resource != "" {
		gvr.Resource = guessed.Resource
		return gvr, nil
	}
	kind := strings.ToLower(gvk.Kind)
	for _, vp := range vps {
		mc := vp.GetSpec().MatchConstraints
		if mc == nil {
			continue
		}
		for _, rr := range mc.ResourceRules {
			for _, res := range rr.Resources {
				if base, _, _ := strings.Cut(res, "/"); strings.ToLower(base) == kind {
					gvr.Resource = base
					return gvr, nil
				}
			}
		}
	}
	return gvr, fmt.Errorf("failed to map gvk to gvr %s: no resource for kind %s", gvk, gvk.Kind)
}

// hasSelector is the processor's test for a policy whose empty response is not reported: match
// constraints of exactly one resource rule, without names, exclusions or selectors.
func hasSelector(match *admissionregistrationv1.MatchResources) bool {
	if match == nil {
		return false
	}
	if match.NamespaceSelector != nil &&
		(len(match.NamespaceSelector.MatchLabels) > 0 || len(match.NamespaceSelector.MatchExpressions) > 0) {
		return false
	}
	if match.ObjectSelector != nil &&
		(len(match.ObjectSelector.MatchLabels) > 0 || len(match.ObjectSelector.MatchExpressions) > 0) {
		return false
	}
	if len(match.ExcludeResourceRules) != 0 || len(match.ResourceRules) != 1 {
		return false
	}
	return len(match.ResourceRules[0].ResourceNames) == 0
}
