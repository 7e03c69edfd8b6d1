package main

// The `authorize` subcommand: access questions decided by kube-apiserver's own RBAC authorizer
// (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac) over static listers holding the given
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings together with the bootstrap policy
// every cluster's kube-apiserver writes at start (plugin/pkg/auth/authorizer/rbac/bootstrappolicy:
// the cluster roles and bindings, the controllers' roles and the namespaced roles). Aggregated
// ClusterRoles get their rules from the clusterrole-aggregation controller first (aggregation.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	rbacauthorizer "k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy"
)

// authorizeInput is the `authorize` request: RBAC objects (any of the four kinds) and questions.
type authorizeInput struct {
	RBAC      []json.RawMessage `json:"rbac"`
	Bootstrap *bool             `json:"bootstrap"`
	Requests  []accessRequest   `json:"requests"`
}

// accessRequest is one question, as a SubjectAccessReview's spec asks it.
type accessRequest struct {
	User        string   `json:"user"`
	Groups      []string `json:"groups"`
	Verb        string   `json:"verb"`
	APIGroup    string   `json:"apiGroup"`
	Resource    string   `json:"resource"`
	Subresource string   `json:"subresource"`
	Namespace   string   `json:"namespace"`
	Name        string   `json:"name"`
	// Path asks about a non-resource URL instead (Resource empty).
	Path string `json:"path"`
}

type accessDecision struct {
	Allowed bool `json:"allowed"`
	// Decision is the authorizer's: "allow" or "no-opinion" (kube-apiserver then denies).
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Error    string `json:"error"`
}

type authorizeOutput struct {
	Notes     []string         `json:"notes"`
	Decisions []accessDecision `json:"decisions"`
}

type rbacIndexers struct {
	roles, clusterRoles, roleBindings, clusterRoleBindings cache.Indexer
}

func newRBACIndexers() *rbacIndexers {
	ns := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	return &rbacIndexers{
		roles:               cache.NewIndexer(cache.MetaNamespaceKeyFunc, ns),
		clusterRoles:        cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		roleBindings:        cache.NewIndexer(cache.MetaNamespaceKeyFunc, ns),
		clusterRoleBindings: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
	}
}

// add stores one RBAC object given as JSON.
func (x *rbacIndexers) add(raw json.RawMessage) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return err
	}
	if head.APIVersion != rbacv1.SchemeGroupVersion.String() {
		return fmt.Errorf("rbac: %s %s is not %s", head.APIVersion, head.Kind, rbacv1.SchemeGroupVersion)
	}
	switch head.Kind {
	case "Role":
		return x.store(raw, &rbacv1.Role{}, x.roles)
	case "ClusterRole":
		return x.store(raw, &rbacv1.ClusterRole{}, x.clusterRoles)
	case "RoleBinding":
		return x.store(raw, &rbacv1.RoleBinding{}, x.roleBindings)
	case "ClusterRoleBinding":
		return x.store(raw, &rbacv1.ClusterRoleBinding{}, x.clusterRoleBindings)
	}
	return fmt.Errorf("rbac: kind %s is not an RBAC object", head.Kind)
}

func (x *rbacIndexers) store(raw json.RawMessage, obj any, into cache.Indexer) error {
	if err := json.Unmarshal(raw, obj); err != nil {
		return err
	}
	return into.Add(obj)
}

// addBootstrap stores what kube-apiserver's RBAC post-start hook ensures on every cluster.
func (x *rbacIndexers) addBootstrap() error {
	roles := append(bootstrappolicy.ClusterRoles(), bootstrappolicy.ControllerRoles()...)
	for i := range roles {
		if err := x.clusterRoles.Add(&roles[i]); err != nil {
			return err
		}
	}
	bindings := append(bootstrappolicy.ClusterRoleBindings(), bootstrappolicy.ControllerRoleBindings()...)
	for i := range bindings {
		if err := x.clusterRoleBindings.Add(&bindings[i]); err != nil {
			return err
		}
	}
	for _, list := range bootstrappolicy.NamespaceRoles() {
		for i := range list {
			if err := x.roles.Add(&list[i]); err != nil {
				return err
			}
		}
	}
	for _, list := range bootstrappolicy.NamespaceRoleBindings() {
		for i := range list {
			if err := x.roleBindings.Add(&list[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *rbacIndexers) authorizer() *rbacauthorizer.RBACAuthorizer {
	return rbacauthorizer.New(
		&rbacauthorizer.RoleGetter{Lister: rbaclisters.NewRoleLister(x.roles)},
		&rbacauthorizer.RoleBindingLister{Lister: rbaclisters.NewRoleBindingLister(x.roleBindings)},
		&rbacauthorizer.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(x.clusterRoles)},
		&rbacauthorizer.ClusterRoleBindingLister{Lister: rbaclisters.NewClusterRoleBindingLister(x.clusterRoleBindings)},
	)
}

func (q accessRequest) attributes() authorizer.AttributesRecord {
	return authorizer.AttributesRecord{
		User:            &user.DefaultInfo{Name: q.User, Groups: q.Groups},
		Verb:            q.Verb,
		Namespace:       q.Namespace,
		APIGroup:        q.APIGroup,
		Resource:        q.Resource,
		Subresource:     q.Subresource,
		Name:            q.Name,
		ResourceRequest: q.Resource != "",
		Path:            q.Path,
	}
}

func runAuthorize(stdin io.Reader, stdout io.Writer) error {
	var in authorizeInput
	dec := json.NewDecoder(stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	x := newRBACIndexers()
	out := authorizeOutput{Notes: []string{}, Decisions: []accessDecision{}}
	if in.Bootstrap == nil || *in.Bootstrap {
		if err := x.addBootstrap(); err != nil {
			return err
		}
	}
	for _, raw := range in.RBAC {
		if err := x.add(raw); err != nil {
			return err
		}
	}
	ctx := context.Background()
	aggregated, err := x.aggregate(ctx)
	if err != nil {
		return err
	}
	for _, name := range aggregated {
		out.Notes = append(out.Notes, fmt.Sprintf(
			"ClusterRole %s: rules aggregated by the clusterrole-aggregation controller", name))
	}
	authz := x.authorizer()
	for _, q := range in.Requests {
		decision, reason, err := authz.Authorize(ctx, q.attributes())
		d := accessDecision{Allowed: decision == authorizer.DecisionAllow, Reason: reason}
		switch decision {
		case authorizer.DecisionAllow:
			d.Decision = "allow"
		case authorizer.DecisionDeny:
			d.Decision = "deny"
		default:
			d.Decision = "no-opinion"
		}
		if err != nil {
			d.Error = err.Error()
		}
		out.Decisions = append(out.Decisions, d)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}
