package adminapi_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/contract"
)

// TestServedOperations asks the emulator for every operation of the spec
// (placeholder ids, no body) and checks that the ones it routes are exactly
// those the contract tests drive (implemented, implementedInventory, limitsOperations). It
// logs the count, the figure the README's "serves N of the spec's
// operations" quotes.
func TestServedOperations(t *testing.T) {
	spec := contract.RequireSpec(t)
	srv := smallServer(t, adminapitest.WithoutValidation())
	var served, unserved []string
	for path, item := range spec.Doc().Paths.Map() {
		for method, op := range item.Operations() {
			p := path
			for strings.Contains(p, "{") {
				i, j := strings.Index(p, "{"), strings.Index(p, "}")
				p = p[:i] + "placeholder_id" + p[j+1:]
			}
			status, _, body := raw(t, srv, method, p, srv.AdminKey, "")
			if status == 404 && strings.Contains(string(body), "Invalid URL") {
				unserved = append(unserved, op.OperationID)
				continue
			}
			served = append(served, op.OperationID)
		}
	}
	sort.Strings(served)
	sort.Strings(unserved)
	tested := append(append(append([]string{}, implemented...), implementedInventory...), limitsOperations...)
	sort.Strings(tested)
	if !slices.Equal(served, tested) {
		t.Errorf("served but not contract-tested, or listed but not served:\nserved %v\ntested %v", served, tested)
	}
	t.Logf("the emulator serves %d of the spec's %d operations; not served: %v", len(served), len(served)+len(unserved), unserved)
}
