// Command apiserver shows objects as a validating admission webhook (Kyverno) receives them at
// CREATE, and the objects the workload controllers create from them, using Kubernetes' and
// Kueue's own code: the API scheme's defaulting, the registry strategies, the kube-apiserver's
// built-in admission plugins, the mutating and validating webhook dispatchers calling Kueue's
// webhook handlers in process, and the job, cronjob, deployment, replicaset and statefulset
// controllers' sync code. Pod Security Admission verdicts come from k8s.io/pod-security-admission.
//
// `apiserver authorize` instead answers access questions with kube-apiserver's RBAC authorizer
// (rbac.go). Input (stdin): {"kubernetesVersion", "now", "namespaces", "cluster", "kueue",
// "kueueFeatureGates", "user", "objects"}. Output (stdout): {"results": [...], ...}, one result
// per input object, children nested. Deterministic: fixed clock, UIDs derived from names, the
// apiserver's random name suffixes drawn from a generator seeded by the object's content.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/capabilities"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// input is the engine's request.
type input struct {
	KubernetesVersion string            `json:"kubernetesVersion"`
	Now               string            `json:"now"`
	Namespaces        []json.RawMessage `json:"namespaces"`
	Cluster           []json.RawMessage `json:"cluster"`
	Kueue             json.RawMessage   `json:"kueue"`
	KueueFeatureGates string            `json:"kueueFeatureGates"`
	User              *userInfo         `json:"user"`
	Objects           []json.RawMessage `json:"objects"`
}

type userInfo struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

func (u *userInfo) info() user.Info {
	return &user.DefaultInfo{Name: u.Username, Groups: u.Groups}
}

// result is what the API server does with one CREATE.
type result struct {
	// Admitted is the object as a validating admission webhook receives it: after defaulting,
	// every mutating admission plugin and webhook, and the registry strategy's PrepareForCreate
	// and Validate. Null when the request was refused before that point.
	Admitted map[string]any `json:"admitted"`
	// Created is whether the API server stores it: nothing refused it (Kyverno's own webhook
	// is not part of this engine).
	Created bool `json:"created"`
	// RefusedBy is the admission plugin that refused the request ("registry" for the
	// strategy's validation, "decoding" for a body the API cannot decode), or "".
	RefusedBy string `json:"refusedBy"`
	// ReachesValidatingWebhooks is whether validating admission webhooks (Kyverno) receive
	// Admitted: no mutating plugin, the registry or a built-in validating plugin refused it.
	ReachesValidatingWebhooks bool `json:"reachesValidatingWebhooks"`
	// User is who sends the request (the controller's service account for children).
	User        userInfo         `json:"user"`
	Children    []*result        `json:"children"`
	PodSecurity *podSecurity     `json:"podSecurity,omitempty"`
	Errors      []string         `json:"errors"`
	Warnings    []string         `json:"warnings"`
	Notes       []string         `json:"notes"`
	obj         runtime.Object   // the admitted object in its request version, for its controller
	gk          schema.GroupKind // its group and kind
}

type output struct {
	KubernetesVersion string    `json:"kubernetesVersion"`
	Now               string    `json:"now"`
	MutatingPlugins   []string  `json:"admissionPlugins"`
	Webhooks          []string  `json:"webhooks"`
	Notes             []string  `json:"notes"`
	Results           []*result `json:"results"`
}

const defaultNow = "2026-01-01T00:00:00Z"

func main() {
	do := run
	if len(os.Args) == 2 && os.Args[1] == "authorize" {
		quiet()
		do = runAuthorize
	} else if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: apiserver [authorize] < request.json")
		os.Exit(2)
	}
	if err := do(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(2)
	}
}

func run(stdin io.Reader, stdout io.Writer) error {
	quiet()
	// kube-apiserver --allow-privileged=true, as EKS runs it (its own aws-node and kube-proxy
	// DaemonSets are privileged): the pod strategy's validation reads this process-wide setting
	// and refuses privileged containers without it. Pod Security Admission still applies.
	capabilities.Setup(true, 0)
	var in input
	dec := json.NewDecoder(stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	if in.Now == "" {
		in.Now = defaultNow
	}
	now, err := time.Parse(time.RFC3339, in.Now)
	if err != nil {
		return fmt.Errorf("now: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng, err := newEngine(ctx, &in, now.UTC())
	if err != nil {
		return err
	}
	defer eng.close()
	caller := userInfo{Username: "substrate-user", Groups: []string{"system:authenticated"}}
	if in.User != nil {
		caller = *in.User
	}
	out := output{
		KubernetesVersion: eng.version,
		Now:               in.Now,
		MutatingPlugins:   eng.plugins,
		Webhooks:          append([]string{}, eng.webhookNames...),
		Notes:             append([]string{}, eng.notes...),
		Results:           []*result{},
	}
	for _, raw := range in.Objects {
		out.Results = append(out.Results, eng.createTree(ctx, raw, caller))
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

// quiet sends the libraries' logs nowhere: stdout carries only the result.
func quiet() {
	if os.Getenv("APISERVER_ENGINE_DEBUG") != "" {
		return
	}
	klog.SetLogger(logr.Discard())
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
}
