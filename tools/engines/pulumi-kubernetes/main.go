// Command pulumi-resource-kubernetes is Pulumi's Kubernetes resource provider plugin, built from
// github.com/pulumi/pulumi-kubernetes/provider/v4 at the v4.25.0 release commit (the one version
// of that module the Go module proxy serves).
//
// Upstream's own cmd/pulumi-resource-kubernetes cannot be built from the module as served: it
// embeds schema-embed.json, a file its release build writes with `go generate` (schema.json with
// the version stamped in) and that is not part of the module. This file is that command's one
// line of behaviour, provider.Serve, with the same generated input: schema.go (run by
// tools/engines/build through the go:generate line below) writes schema-embed.json from the
// module's schema.json. The Terraform mapping (used only by `pulumi convert --from terraform`) is
// left out.
package main

//go:generate go run schema.go

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, nil)
}
