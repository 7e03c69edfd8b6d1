// Command pod-security evaluates pods and pod-bearing workloads the way the Pod Security
// Admission controller built into kube-apiserver does: the namespace's labels resolve to a policy
// (api.PolicyToEvaluate), the pod spec comes from admission.DefaultPodSpecExtractor, and the
// checks are policy.DefaultChecks() at the cluster's Kubernetes version (the evaluator emulates
// it, as the API server does for an emulated version).
//
// Input (stdin, JSON): {"kubernetesVersion": "1.35", "namespaces": [Namespace...],
// "objects": [Pod, Deployment, ...]}. Output (stdout, JSON): one verdict per object that carries a
// pod spec, for the namespace's enforce level: the pods it creates are admitted or refused.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/pod-security-admission/admission"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type input struct {
	KubernetesVersion string             `json:"kubernetesVersion"`
	Namespaces        []corev1.Namespace `json:"namespaces"`
	Objects           []json.RawMessage  `json:"objects"`
}

type forbidden struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type verdict struct {
	Kind      string      `json:"kind"`
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	Enforce   string      `json:"enforce"`
	Allowed   bool        `json:"allowed"`
	Forbidden []forbidden `json:"forbidden"`
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

func decode(raw json.RawMessage) (runtime.Object, error) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	var obj runtime.Object
	switch h.APIVersion + "/" + h.Kind {
	case "v1/Pod":
		obj = &corev1.Pod{}
	case "v1/PodTemplate":
		obj = &corev1.PodTemplate{}
	case "v1/ReplicationController":
		obj = &corev1.ReplicationController{}
	case "apps/v1/ReplicaSet":
		obj = &appsv1.ReplicaSet{}
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1/DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "apps/v1/StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "batch/v1/Job":
		obj = &batchv1.Job{}
	case "batch/v1/CronJob":
		obj = &batchv1.CronJob{}
	default:
		return nil, nil // carries no pod spec Pod Security evaluates
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", h.Kind, err)
	}
	return obj, nil
}

func run() error {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	var emulated *api.Version
	if in.KubernetesVersion != "" {
		v, err := api.ParseVersion("v" + in.KubernetesVersion)
		if err != nil {
			return err
		}
		emulated = &v
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), emulated)
	if err != nil {
		return err
	}
	policies := map[string]api.Policy{}
	for _, ns := range in.Namespaces {
		// The API server's defaults when a namespace has no labels: privileged at latest.
		p, errs := api.PolicyToEvaluate(ns.Labels, api.Policy{
			Enforce: api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
			Audit:   api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
			Warn:    api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
		})
		if len(errs) > 0 {
			return fmt.Errorf("namespace %s: %v", ns.Name, errs.ToAggregate())
		}
		policies[ns.Name] = p
	}
	extractor := admission.DefaultPodSpecExtractor{}
	verdicts := []verdict{}
	for _, raw := range in.Objects {
		obj, err := decode(raw)
		if err != nil {
			return err
		}
		if obj == nil {
			continue
		}
		meta, spec, err := extractor.ExtractPodSpec(obj)
		if err != nil {
			return err
		}
		var named struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &named); err != nil {
			return err
		}
		p, ok := policies[named.Metadata.Namespace]
		if !ok {
			return fmt.Errorf("%s %s: namespace %q not given", named.Kind, named.Metadata.Name,
				named.Metadata.Namespace)
		}
		result := policy.AggregateCheckResults(evaluator.EvaluatePod(p.Enforce, meta, spec))
		v := verdict{
			Kind: named.Kind, Namespace: named.Metadata.Namespace, Name: named.Metadata.Name,
			Enforce: p.Enforce.String(), Allowed: result.Allowed, Forbidden: []forbidden{},
		}
		for i, reason := range result.ForbiddenReasons {
			v.Forbidden = append(v.Forbidden, forbidden{reason, result.ForbiddenDetails[i]})
		}
		verdicts = append(verdicts, v)
	}
	sort.SliceStable(verdicts, func(i, j int) bool {
		a, b := verdicts[i], verdicts[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", " ")
	return out.Encode(verdicts)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pod-security:", err)
		os.Exit(2)
	}
}
