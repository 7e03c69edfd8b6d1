// Command kueue answers queue questions with Kueue v0.19.2's own code: its Configuration loader, job
// integrations (webhooks and reconcilers), Workload controller, cache, queue manager and scheduler,
// driven over an in-memory client on a fixed clock. Input: one JSON or YAML document (file argument or
// stdin) with `configuration` (Kueue Configuration YAML text), `objects` (namespaces, LimitRanges and
// Kueue objects) and ordered `steps` (submit, scale, finish, delete). Output: JSON, one report per step.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"
)

type input struct {
	Configuration string            `json:"configuration"`
	Objects       []json.RawMessage `json:"objects"`
	Steps         []step            `json:"steps"`
}

func main() {
	var in io.Reader = os.Stdin
	if len(os.Args) > 1 && os.Args[1] != "-" {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fail(err)
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(in)
	if err != nil {
		fail(err)
	}
	out, err := run(data)
	if err != nil {
		fail(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func run(data []byte) (map[string]any, error) {
	text, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var doc input
	if err := json.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	e, err := newEnv(doc.Configuration)
	if err != nil {
		return nil, err
	}
	if err := e.setup(doc.Objects); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	reports := []stepReport{}
	seenEvents := 0
	for _, s := range doc.Steps {
		e.created = []json.RawMessage{}
		rejected, err := e.apply(s)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		r := stepReport{Name: s.Name, Rejected: rejected, Created: e.created}
		if r.Workloads, err = e.workloadReports(); err != nil {
			return nil, err
		}
		if r.ClusterQueues, err = e.clusterQueueReports(); err != nil {
			return nil, err
		}
		if r.Objects, err = e.objects(); err != nil {
			return nil, err
		}
		r.Events, seenEvents = e.newEvents(seenEvents)
		reports = append(reports, r)
	}
	return map[string]any{"controllers": e.mgr.controllerNames(), "steps": reports}, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kueue engine:", err)
	os.Exit(2)
}
