package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	policiesv1beta1 "github.com/kyverno/api/api/policies.kyverno.io/v1beta1"
	kyvernov2 "github.com/kyverno/kyverno/api/kyverno/v2"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/commands/test"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/deprecations"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/policy"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/processor"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/report"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/resource"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/store"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/userinfo"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/variables"
	engineapi "github.com/kyverno/kyverno/pkg/engine/api"
	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The files one `kyverno apply` run would read, kept in memory.
const (
	policiesFile = "policies.yaml"
	valuesFile   = "values.yaml"
	contextFile  = "context.yaml"
	userFile     = "user.yaml"
	cliAPI       = "cli.kyverno.io/v1alpha1"
	cachedSets   = 64
)

type request struct {
	Policies   []json.RawMessage `json:"policies"`
	Objects    []json.RawMessage `json:"objects"`
	Namespaces []json.RawMessage `json:"namespaces"`
	Cluster    []json.RawMessage `json:"cluster"`
	Operation  string            `json:"operation"`
	User       json.RawMessage   `json:"user"`
}

type server struct {
	mapper meta.RESTMapper
	// Policy sets already loaded, by the SHA-256 of their request JSON (the loader validates
	// every document against the OpenAPI schemas, the costliest step a repeated set skips).
	loaded map[[sha256.Size]byte][]policiesv1beta1.ValidatingPolicyLike
	// The same sets compiled (compiled.go), by the same key, bound to board.
	compiled map[[sha256.Size]byte]*compiledSet
	board    *switchboard
}

func newServer(mapper meta.RESTMapper) *server {
	return &server{
		mapper:   mapper,
		loaded:   map[[sha256.Size]byte][]policiesv1beta1.ValidatingPolicyLike{},
		compiled: map[[sha256.Size]byte]*compiledSet{},
		board:    &switchboard{},
	}
}

// documents joins JSON documents into one multi-document YAML file (JSON is YAML).
func documents(docs []json.RawMessage) []byte {
	var buf bytes.Buffer
	for _, doc := range docs {
		buf.WriteString("---\n")
		buf.Write(doc)
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

func writeFile(fs billy.Filesystem, name string, content []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(fs billy.Filesystem, name string, doc any) error {
	content, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return writeFile(fs, name, content)
}

// policies loads the request's policies with the CLI's policy loader (autogen happens later,
// inside the processor, as in `kyverno apply`). Only ValidatingPolicy and
// NamespacedValidatingPolicy are served: other kinds need the CLI's fake cluster client.
func (s *server) policies(docs []json.RawMessage) ([]policiesv1beta1.ValidatingPolicyLike, [sha256.Size]byte, error) {
	raw, _ := json.Marshal(docs)
	key := sha256.Sum256(raw)
	vps, ok := s.loaded[key]
	if !ok {
		fs := memfs.New()
		if err := writeFile(fs, policiesFile, documents(docs)); err != nil {
			return nil, key, err
		}
		loaded, err := policy.Load(fs, "", policiesFile)
		if err != nil {
			return nil, key, fmt.Errorf("failed to load policies (%w)", err)
		}
		if err := onlyValidatingPolicies(loaded); err != nil {
			return nil, key, err
		}
		vps = loaded.ValidatingPolicies
		if len(s.loaded) >= cachedSets {
			clear(s.loaded)
		}
		s.loaded[key] = vps
	}
	// Each request gets its own copies: nothing one evaluation does can leak into the next.
	out := make([]policiesv1beta1.ValidatingPolicyLike, 0, len(vps))
	for _, vp := range vps {
		out = append(out, vp.DeepCopyObject().(policiesv1beta1.ValidatingPolicyLike))
	}
	return out, key, nil
}

func onlyValidatingPolicies(l *policy.LoaderResults) error {
	for _, e := range l.NonFatalErrors {
		return fmt.Errorf("invalid policy document in %s: %w", e.Path, e.Error)
	}
	others := len(l.Policies) + len(l.PolicyExceptions) + len(l.PolicyCELExceptions) +
		len(l.VAPs) + len(l.VAPBindings) + len(l.MAPs) + len(l.MAPBindings) +
		len(l.EnvoyPolicies) + len(l.HTTPPolicies) + len(l.ImageValidatingPolicies) +
		len(l.GeneratingPolicies) + len(l.DeletingPolicies) + len(l.CleanupPolicies) +
		len(l.MutatingPolicies)
	if others > 0 {
		return fmt.Errorf("only ValidatingPolicy and NamespacedValidatingPolicy are served: run `kyverno apply` for other kinds")
	}
	return nil
}

// inputs writes the values, context and userinfo files `kyverno apply` is given.
func inputs(fs billy.Filesystem, req *request) error {
	values := map[string]any{
		"apiVersion": cliAPI,
		"kind":       "Value",
		"metadata":   map[string]any{"name": "values"},
		"namespaces": nonNil(req.Namespaces),
	}
	if req.Operation != "" {
		values["globalValues"] = map[string]any{"request.operation": req.Operation}
	}
	if err := writeJSON(fs, valuesFile, values); err != nil {
		return err
	}
	context := map[string]any{
		"apiVersion": cliAPI,
		"kind":       "Context",
		"metadata":   map[string]any{"name": "context"},
		"spec":       map[string]any{"resources": nonNil(req.Cluster)},
	}
	if err := writeJSON(fs, contextFile, context); err != nil {
		return err
	}
	if !hasUser(req) {
		return nil
	}
	return writeJSON(fs, userFile, map[string]any{
		"apiVersion": cliAPI,
		"kind":       "UserInfo",
		"metadata":   map[string]any{"name": "requester"},
		"userInfo":   req.User,
	})
}

func nonNil(docs []json.RawMessage) []json.RawMessage {
	if docs == nil {
		return []json.RawMessage{}
	}
	return docs
}

func hasUser(req *request) bool {
	return len(req.User) > 0 && !bytes.Equal(bytes.TrimSpace(req.User), []byte("null"))
}

// evaluate answers one request as `kyverno apply --policy-report` answers it.
func (s *server) evaluate(req *request) ([]openreportsv1alpha1.ReportResult, error) {
	if len(req.Policies) == 0 || len(req.Objects) == 0 {
		return nil, nil
	}
	vps, key, err := s.policies(req.Policies)
	if err != nil {
		return nil, err
	}
	fs := memfs.New()
	if err := inputs(fs, req); err != nil {
		return nil, err
	}
	var userInfo *kyvernov2.RequestInfo
	if hasUser(req) {
		info, err := userinfo.Load(fs, userFile, "")
		if err != nil {
			return nil, fmt.Errorf("failed to load request info (%w)", err)
		}
		deprecations.CheckUserInfo(io.Discard, userFile, info)
		userInfo = &info.RequestInfo
	}
	vars, err := variables.New(io.Discard, fs, "", valuesFile, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to decode yaml (%w)", err)
	}
	if _, err := processor.NormalizeValuesOperation(vars.GlobalOperation()); err != nil {
		return nil, err
	}
	resources, err := resource.GetUnstructuredResources(documents(req.Objects))
	if err != nil {
		return nil, fmt.Errorf("failed to load resources (%w)", err)
	}
	resources = test.ProcessResources(resources)
	for _, r := range resources {
		if gvk := r.GroupVersionKind(); gvk.Kind == "GlobalContextEntry" && gvk.Group == "kyverno.io" {
			return nil, fmt.Errorf("GlobalContextEntry objects are not served: run `kyverno apply`")
		}
	}
	set, err := s.compiledFor(key, vps)
	if err != nil {
		return nil, err
	}
	var responses []engineapi.EngineResponse
	if set != nil {
		responses, err = s.applyCompiled(set, resources, vars, userInfo, fs, newStore(vars))
	} else {
		responses, err = s.apply(vps, resources, vars, userInfo, fs)
	}
	if err != nil {
		return nil, err
	}
	return reportResults(responses), nil
}

// newStore is the store `kyverno apply` evaluates with: local, no registry, API calls served
// from the context file, the values' variables set in it.
func newStore(vars *variables.Variables) *store.Store {
	var st store.Store
	st.SetLocal(true)
	st.SetRegistryAccess(false)
	st.AllowApiCall(true)
	vars.SetInStore(&st)
	return &st
}

// apply runs the CLI's PolicyProcessor on each object with the settings `kyverno apply` gives
// it (local store, no cluster, policy report mode).
func (s *server) apply(
	vps []policiesv1beta1.ValidatingPolicyLike,
	resources []*unstructured.Unstructured,
	vars *variables.Variables,
	userInfo *kyvernov2.RequestInfo,
	fs billy.Filesystem,
) ([]engineapi.EngineResponse, error) {
	st := newStore(vars)
	var rc processor.ResultCounts
	namespaceCache := map[string]*unstructured.Unstructured{}
	var responses []engineapi.EngineResponse
	for _, r := range resources {
		p := processor.PolicyProcessor{
			Store:                st,
			ValidatingPolicies:   vps,
			Resource:             *r,
			Variables:            vars,
			ContextFs:            fs,
			ContextPath:          contextFile,
			UserInfo:             userInfo,
			PolicyReport:         true,
			NamespaceSelectorMap: vars.NamespaceSelectors(),
			Rc:                   &rc,
			PrintPatchResource:   true,
			Subresources:         vars.Subresources(),
			Out:                  io.Discard,
			NamespaceCache:       namespaceCache,
			RESTMapper:           s.mapper,
		}
		ers, err := p.ApplyPoliciesOnResource()
		if err != nil {
			return nil, fmt.Errorf("failed to apply policies on resource %s (%w)", r.GetName(), err)
		}
		responses = append(responses, ers...)
	}
	return responses, nil
}

// reportResults are the results of the reports `kyverno apply --policy-report` prints: the
// merged cluster report, then each namespaced policy's report.
func reportResults(responses []engineapi.EngineResponse) []openreportsv1alpha1.ReportResult {
	clustered, namespaced := report.ComputePolicyReports(false, responses...)
	var results []openreportsv1alpha1.ReportResult
	if len(clustered) > 0 {
		results = append(results, report.MergeClusterReports(clustered).Results...)
	}
	for _, r := range namespaced {
		results = append(results, r.Results...)
	}
	return results
}
