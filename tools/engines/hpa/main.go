// Command hpa runs Kubernetes' HorizontalPodAutoscaler and StatefulSet controllers
// (k8s.io/kubernetes v1.36.0, pkg/controller/podautoscaler and pkg/controller/statefulset)
// against fake clients along a timeline: the HPA a KEDA ScaledObject makes, a metric series per
// trigger, and optionally a new pod template (a rollout). It reports the replica count the HPA
// sets, which pods the StatefulSet controller deletes and creates when, the grace period the API
// server's pod strategy gives each deletion, and what happens to the claims.
//
// Input (stdin): {"statefulSet", "scaledObject", "replicas", "metrics": [{"at", "values"}],
// "rollout": {"at", "statefulSet"}, "nodeLoss": [{"at", "pod"}], "durationSeconds",
// "syncSeconds", "startSeconds"}.
// Output (stdout): {"hpa", "events", "timeline", "notes"}. Times are seconds from the start.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/klog/v2"
)

type sample struct {
	At     int       `json:"at"`
	Values []float64 `json:"values"`
}

type rollout struct {
	At          int             `json:"at"`
	StatefulSet json.RawMessage `json:"statefulSet"`
}

// nodeLoss: at `at`, the Node object of the node `pod` runs on is deleted (the instance is gone
// and the cloud node lifecycle controller, or Karpenter, removed the Node).
type nodeLoss struct {
	At  int    `json:"at"`
	Pod string `json:"pod"`
}

type input struct {
	StatefulSet  json.RawMessage `json:"statefulSet"`
	ScaledObject json.RawMessage `json:"scaledObject"`
	// Replicas the StatefulSet runs at the start (an HPA-managed set renders none).
	Replicas int32 `json:"replicas"`
	// Metrics: from `at` on, the value KEDA's metrics server reports for trigger i is values[i].
	Metrics         []sample   `json:"metrics"`
	Rollout         *rollout   `json:"rollout"`
	NodeLoss        []nodeLoss `json:"nodeLoss"`
	DurationSeconds int        `json:"durationSeconds"`
	// SyncSeconds: the HPA controller's sync period (kube-controller-manager default 15).
	SyncSeconds int `json:"syncSeconds"`
	// StartSeconds: from a pod's creation until the kubelet reports it Ready.
	StartSeconds int `json:"startSeconds"`
}

type event struct {
	At     int    `json:"at"`
	Kind   string `json:"kind"`
	Object string `json:"object,omitempty"`
	// From/To: replica counts of a rescale.
	From *int32 `json:"from,omitempty"`
	To   *int32 `json:"to,omitempty"`
	// GraceSeconds: the deletion grace period the API server set on a deleted pod.
	GraceSeconds *int64 `json:"graceSeconds,omitempty"`
	// UID of the pod or claim; Claims: the claims a created pod mounts (name=uid).
	UID      string            `json:"uid,omitempty"`
	Claims   map[string]string `json:"claims,omitempty"`
	Revision string            `json:"revision,omitempty"`
	Owners   []string          `json:"owners,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	// PreStop: a deleted pod's containers' preStop HTTP paths (what the kubelet calls first;
	// none when the pod's node is gone: no kubelet runs them).
	PreStop []string `json:"preStop,omitempty"`
	// Node: the node a pod became Ready on, or the node lost.
	Node string `json:"node,omitempty"`
}

type podState struct {
	Name        string `json:"name"`
	Ready       bool   `json:"ready"`
	Terminating bool   `json:"terminating"`
	Revision    string `json:"revision"`
}

type snapshot struct {
	At       int        `json:"at"`
	Replicas int32      `json:"replicas"`
	Pods     []podState `json:"pods"`
	Claims   []string   `json:"claims"`
}

type output struct {
	HPA      any        `json:"hpa"`
	Events   []event    `json:"events"`
	Timeline []snapshot `json:"timeline"`
	Notes    []string   `json:"notes"`
}

func main() {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail(fmt.Errorf("input: %w", err))
	}
	out, err := run(context.Background(), &in)
	if err != nil {
		fail(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hpa:", err)
	os.Exit(1)
}
