// Command kyverno-server answers many admission questions with one start-up of the Kyverno CLI's
// own code (github.com/kyverno/kyverno v1.19.0, cmd/cli/kubectl-kyverno): each question is what
// one `kyverno apply POLICIES --resource OBJECTS --values-file V --context-file C [--userinfo U]
// --policy-report` run answers, and the answer is that run's policy report results.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout, in order.
//
//	request:  {"policies": [...], "objects": [...], "namespaces": [...], "cluster": [...],
//	           "operation": "CREATE"|"UPDATE"|"DELETE", "user": {"username": ..., "groups": [...]}}
//	response: {"results": [<policy report result>, ...]}  or  {"error": "<why>"}
//
// namespaces are the Namespaces the values file hands the CLI (namespace selectors), cluster the
// objects of its context file (what CEL's resource.List/Get see), user the requester of its
// userinfo file; operation becomes the values file's `request.operation`.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/data"
	"github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno/log"
	"github.com/kyverno/kyverno/pkg/utils/restmapper"
)

type response struct {
	Results []json.RawMessage `json:"results"`
	Error   string            `json:"error,omitempty"`
}

// gcPercent trades memory for CPU: compiling the policies for every object allocates a lot, and
// at Go's default (100) a fifth of the server's CPU went to the garbage collector's mark
// workers; at 400 a request takes 25-35% less CPU, for ~330 MB resident instead of ~190 MB
// (benchmarks/kyverno_cost.py). GOGC, when set, wins.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// Answers go to the real stdout only: anything the Kyverno packages print goes to stderr.
	answers := os.Stdout
	os.Stdout = os.Stderr
	if err := serve(os.Stdin, answers); err != nil {
		fmt.Fprintln(os.Stderr, "kyverno-server:", err)
		os.Exit(1)
	}
}

func serve(in io.Reader, out io.Writer) error {
	// What `kyverno apply` sets up before it evaluates anything: its logging (silent unless
	// -v N is given) and the CRD processor its REST mapper consults.
	if err := log.Configure(); err != nil {
		return fmt.Errorf("failed to setup logging (%w)", err)
	}
	data.InjectProcessor(data.NewCRDProcessor(nil))
	// The mapper the processor builds for every object when it has no cluster client: the CLI's
	// embedded API groups. Built once here.
	mapper, err := restmapper.GetRESTMapper(nil)
	if err != nil {
		return err
	}
	s := newServer(mapper)
	reader := bufio.NewReaderSize(in, 1<<20)
	writer := bufio.NewWriter(out)
	encoder := json.NewEncoder(writer)
	for {
		line, readErr := reader.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if err := encoder.Encode(s.answer(line)); err != nil {
				return err
			}
			if err := writer.Flush(); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			return readErr
		}
	}
}

// answer evaluates one request line; a panic inside Kyverno becomes that request's error.
func (s *server) answer(line []byte) (resp response) {
	defer func() {
		if r := recover(); r != nil {
			resp = response{Error: fmt.Sprintf("kyverno panicked: %v", r)}
		}
	}()
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return response{Error: fmt.Sprintf("invalid request: %v", err)}
	}
	results, err := s.evaluate(&req)
	if err != nil {
		return response{Error: err.Error()}
	}
	resp.Results = make([]json.RawMessage, 0, len(results))
	for _, result := range results {
		raw, err := json.Marshal(result)
		if err != nil {
			return response{Error: err.Error()}
		}
		resp.Results = append(resp.Results, raw)
	}
	return resp
}
