//go:build ignore

// Writes schema-embed.json: the provider module's cmd/pulumi-resource-kubernetes/schema.json with
// "version" set to the version stamped into the binary by ./ldflags, as upstream's release build
// does. Run by `go generate` from tools/engines/build; the output is not committed.
package main

import (
	"encoding/json"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

const module = "github.com/pulumi/pulumi-kubernetes/provider/v4"

func main() {
	flags, err := os.ReadFile("ldflags")
	if err != nil {
		log.Fatal(err)
	}
	m := regexp.MustCompile(`pkg/version\.Version=(\S+)`).FindSubmatch(flags)
	if m == nil {
		log.Fatal("ldflags: no pkg/version.Version setting")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		log.Fatalf("go list -m %s: %v", module, err)
	}
	dir := strings.TrimSpace(string(out))
	raw, err := os.ReadFile(filepath.Join(dir, "cmd", "pulumi-resource-kubernetes", "schema.json"))
	if err != nil {
		log.Fatal(err)
	}
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &spec); err != nil {
		log.Fatalf("schema.json: %v", err)
	}
	spec["version"], _ = json.Marshal(string(m[1]))
	embedded, err := json.Marshal(spec)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("schema-embed.json", embedded, 0o644); err != nil {
		log.Fatal(err)
	}
}
