// Command spire-entries answers which registration entries SPIRE's controller manager declares
// for pods, the way its ClusterSPIFFEID reconciler does (spire-controller-manager
// pkg/spireentry): a ClusterSPIFFEID is reconciled when its className is the controller's (or is
// empty and the controller watches classless ones); it selects the namespaces its
// namespaceSelector matches, minus those an ignoreNamespaces regular expression matches, and in
// them the pods its podSelector matches (Kubernetes label selectors: a missing selector selects
// everything); fallback ClusterSPIFFEIDs are processed last and skip a pod a non-fallback one
// already declared an entry for. The SPIFFE ID and the workload selectors are the spec's Go
// text/templates executed on {TrustDomain, ClusterName, ClusterDomain, PodMeta, PodSpec,
// NodeMeta, NodeSpec}, and the ID must parse as a SPIFFE ID of the controller's trust domain.
//
// This is our own harness: the controller's Go module is not served by the module proxy here,
// so it cannot be imported. The label selectors and the pod types are Kubernetes' own
// (k8s.io/apimachinery, k8s.io/api), the templates the standard library's text/template.
//
// Input (stdin, JSON): {"config": {trustDomain, clusterName, clusterDomain, className,
// watchClassless, ignoreNamespaces}, "clusterSPIFFEIDs": [ClusterSPIFFEID...], "namespaces":
// [Namespace...], "pods": [Pod...], "node": Node|null}. Output (stdout, JSON): one answer per pod,
// in input order: the entries declared for it and the ClusterSPIFFEIDs that selected it but
// failed to render, each with the reason.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type config struct {
	TrustDomain      string   `json:"trustDomain"`
	ClusterName      string   `json:"clusterName"`
	ClusterDomain    string   `json:"clusterDomain"`
	ClassName        string   `json:"className"`
	WatchClassless   bool     `json:"watchClassless"`
	IgnoreNamespaces []string `json:"ignoreNamespaces"`
}

type spec struct {
	SPIFFEIDTemplate          string                `json:"spiffeIDTemplate"`
	NamespaceSelector         *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	PodSelector               *metav1.LabelSelector `json:"podSelector,omitempty"`
	WorkloadSelectorTemplates []string              `json:"workloadSelectorTemplates,omitempty"`
	ClassName                 string                `json:"className,omitempty"`
	Fallback                  bool                  `json:"fallback,omitempty"`
	Hint                      string                `json:"hint,omitempty"`
}

type clusterSPIFFEID struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     spec              `json:"spec"`
}

type input struct {
	Config           config             `json:"config"`
	ClusterSPIFFEIDs []clusterSPIFFEID  `json:"clusterSPIFFEIDs"`
	Namespaces       []corev1.Namespace `json:"namespaces"`
	Pods             []corev1.Pod       `json:"pods"`
	Node             *corev1.Node       `json:"node"`
}

type entry struct {
	ClusterSPIFFEID string   `json:"clusterSPIFFEID"`
	SPIFFEID        string   `json:"spiffeID"`
	Selectors       []string `json:"selectors"`
	Fallback        bool     `json:"fallback"`
}

type failure struct {
	ClusterSPIFFEID string `json:"clusterSPIFFEID"`
	Error           string `json:"error"`
}

type answer struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Entries   []entry   `json:"entries"`
	Failures  []failure `json:"failures"`
	Ignored   bool      `json:"ignored"`
}

type templateData struct {
	TrustDomain   string
	ClusterName   string
	ClusterDomain string
	PodMeta       *metav1.ObjectMeta
	PodSpec       *corev1.PodSpec
	NodeMeta      *metav1.ObjectMeta
	NodeSpec      *corev1.NodeSpec
}

func selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

func render(name, text string, data *templateData) (string, error) {
	tmpl, err := template.New(name).Parse(text)
	if err != nil {
		return "", err
	}
	buf := new(bytes.Buffer)
	if err := tmpl.Execute(buf, data); err != nil {
		return "", fmt.Errorf("failed to execute template: %w", err)
	}
	return buf.String(), nil
}

// spiffeID checks a rendered ID the way go-spiffe's spiffeid.FromString does for the parts that
// matter here: scheme spiffe, a trust domain, no query, fragment, port or user info.
func spiffeID(rendered, trustDomain string) (string, error) {
	u, err := url.Parse(rendered)
	switch {
	case err != nil:
		return "", fmt.Errorf("invalid SPIFFE ID: %w", err)
	case u.Scheme != "spiffe" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		u.User != nil || u.Port() != "" || strings.Contains(u.Path, "//"):
		return "", fmt.Errorf("invalid SPIFFE ID %q", rendered)
	case u.Host != trustDomain:
		return "", fmt.Errorf("invalid SPIFFE ID: expected trust domain %q but got %q", trustDomain, u.Host)
	}
	return rendered, nil
}

func entryFor(cfg config, c clusterSPIFFEID, pod *corev1.Pod, node *corev1.Node) (entry, error) {
	data := &templateData{
		TrustDomain: cfg.TrustDomain, ClusterName: cfg.ClusterName, ClusterDomain: cfg.ClusterDomain,
		PodMeta: &pod.ObjectMeta, PodSpec: &pod.Spec,
	}
	if node != nil {
		data.NodeMeta, data.NodeSpec = &node.ObjectMeta, &node.Spec
	}
	out := entry{ClusterSPIFFEID: c.Metadata.Name, Fallback: c.Spec.Fallback}
	rendered, err := render("spiffeID", c.Spec.SPIFFEIDTemplate, data)
	if err == nil {
		out.SPIFFEID, err = spiffeID(rendered, cfg.TrustDomain)
	}
	if err != nil {
		return out, err
	}
	out.Selectors = []string{"k8s:pod-uid:" + string(pod.UID)}
	for _, t := range c.Spec.WorkloadSelectorTemplates {
		s, err := render("workloadSelector", t, data)
		if err != nil {
			return out, fmt.Errorf("failed to render workload selector: %w", err)
		}
		if parts := strings.SplitN(s, ":", 2); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return out, fmt.Errorf("invalid workload selector %q", s)
		}
		out.Selectors = append(out.Selectors, s)
	}
	return out, nil
}

func run(in input) ([]answer, error) {
	var ignore []*regexp.Regexp
	for _, s := range in.Config.IgnoreNamespaces {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("ignoreNamespaces: %w", err)
		}
		ignore = append(ignore, re)
	}
	nsLabels := map[string]labels.Set{}
	for _, ns := range in.Namespaces {
		nsLabels[ns.Name] = labels.Set(ns.Labels)
	}
	var ids []clusterSPIFFEID
	for _, c := range in.ClusterSPIFFEIDs {
		if (c.Spec.ClassName == "" && in.Config.WatchClassless) || c.Spec.ClassName == in.Config.ClassName {
			ids = append(ids, c)
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return !ids[i].Spec.Fallback && ids[j].Spec.Fallback })
	answers := make([]answer, len(in.Pods))
	for i := range in.Pods {
		pod := &in.Pods[i]
		a := answer{Namespace: pod.Namespace, Name: pod.Name, Entries: []entry{}, Failures: []failure{}}
		for _, re := range ignore {
			a.Ignored = a.Ignored || re.MatchString(pod.Namespace)
		}
		nsSet, known := nsLabels[pod.Namespace]
		nonFallback := false
		for _, c := range ids {
			nsSel, err := selector(c.Spec.NamespaceSelector)
			if err != nil {
				return nil, fmt.Errorf("ClusterSPIFFEID %s: %w", c.Metadata.Name, err)
			}
			podSel, err := selector(c.Spec.PodSelector)
			if err != nil {
				return nil, fmt.Errorf("ClusterSPIFFEID %s: %w", c.Metadata.Name, err)
			}
			if !known || a.Ignored || !nsSel.Matches(nsSet) || !podSel.Matches(labels.Set(pod.Labels)) {
				continue
			}
			if nonFallback && c.Spec.Fallback {
				continue
			}
			e, err := entryFor(in.Config, c, pod, in.Node)
			if err != nil {
				a.Failures = append(a.Failures, failure{c.Metadata.Name, err.Error()})
				continue
			}
			a.Entries = append(a.Entries, e)
			nonFallback = nonFallback || !c.Spec.Fallback
		}
		answers[i] = a
	}
	return answers, nil
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "spire-entries: bad input:", err)
		os.Exit(2)
	}
	answers, err := run(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spire-entries:", err)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		os.Exit(1)
	}
}
