package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apiserver/pkg/storage/names"
)

// The API server draws random name suffixes (generateName, the ServiceAccount plugin's
// kube-api-access-xxxxx volume) from k8s.io/apimachinery/pkg/util/rand. The engine keeps that
// generator but seeds it before each request from the request's own content (and how many
// identical requests came before), so a result never depends on the order of the input or on
// the order a controller's goroutines send identical pods.
type seeder struct {
	mu   sync.Mutex
	seen map[[32]byte]int
}

func newSeeder() *seeder { return &seeder{seen: map[[32]byte]int{}} }

func (s *seeder) reseed(request []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256(request)
	n := s.seen[sum]
	s.seen[sum] = n + 1
	utilrand.Seed(int64(binary.BigEndian.Uint64(sum[:8])) + int64(n))
}

// generateName is the name the API server's storage gives an object with only generateName.
func generateName(base string) string {
	return names.SimpleNameGenerator.GenerateName(base)
}

// uidNamespace roots the name-derived UIDs (a fixed random UUID of this engine).
var uidNamespace = uuid.MustParse("5b0c7c5e-6a43-4f5e-9a53-2f1f5d3e9c11")

// uidFor replaces the API server's random UID with one derived from what identifies the object.
func uidFor(apiVersion, kind, namespace, name string) types.UID {
	key := fmt.Sprintf("%s/%s/%s/%s", apiVersion, kind, namespace, name)
	return types.UID(uuid.NewSHA1(uidNamespace, []byte(key)).String())
}
