package contract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecEnv names the environment variable that overrides where the spec is read from.
const SpecEnv = "ORGWARDEN_OPENAPI_SPEC"

// DefaultBasePath is where the API lives on a server: the SDK's base URL ends in /v1.
const DefaultBasePath = "/v1"

// ErrSpecNotFound is returned (wrapped, with the path looked at) when the spec file is absent.
var ErrSpecNotFound = errors.New("OpenAPI spec not found")

// Spec is a loaded, validated and router-indexed copy of the Admin API spec.
// It is immutable after Load and safe for concurrent use.
type Spec struct {
	path   string
	doc    *openapi3.T
	router routers.Router
	// errorSchema validates error bodies for statuses an operation does not declare.
	errorSchema *openapi3.SchemaRef
	operations  []string
}

// Path is the file the spec was loaded from.
func (s *Spec) Path() string { return s.path }

// Doc is the parsed document, with the in-memory adjustments described in the package doc.
// Callers must not modify it.
func (s *Spec) Doc() *openapi3.T { return s.doc }

// OperationIDs lists every operationId in the spec, sorted.
func (s *Spec) OperationIDs() []string { return append([]string(nil), s.operations...) }

// SpecPath says where the spec should be: $ORGWARDEN_OPENAPI_SPEC if set, else
// ../shared/openapi/openai-admin.yaml next to the directory holding go.mod, found by
// walking up from the working directory. It does not check that the file exists.
func SpecPath() (string, error) {
	if p := os.Getenv(SpecEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locate spec: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "openapi", "openai-admin.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("locate spec: no go.mod above the working directory (set %s)", SpecEnv)
		}
		dir = parent
	}
}

// loaded memoises parsed specs by path. Parsing takes ~100ms and every test
// package would otherwise pay it per test; a Spec is immutable, so sharing is safe.
var loaded sync.Map // path -> *loadOnce

type loadOnce struct {
	once sync.Once
	spec *Spec
	err  error
}

// Load parses and indexes the spec at path, once per process per path.
// A missing file gives an error wrapping ErrSpecNotFound.
func Load(path string) (*Spec, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load spec %s: %w", path, err)
	}
	v, _ := loaded.LoadOrStore(abs, &loadOnce{})
	lo := v.(*loadOnce)
	lo.once.Do(func() { lo.spec, lo.err = parse(abs) })
	return lo.spec, lo.err
}

// Find locates and loads the spec (see SpecPath and Load).
func Find() (*Spec, error) {
	path, err := SpecPath()
	if err != nil {
		return nil, err
	}
	return Load(path)
}

// RequireSpec returns the spec, or skips the test with a message naming the
// path it looked for when the file is absent. Any other problem fails the test.
func RequireSpec(t testing.TB) *Spec {
	t.Helper()
	path, err := SpecPath()
	if err != nil {
		t.Skipf("contract: %v", err)
	}
	spec, err := Load(path)
	if errors.Is(err, ErrSpecNotFound) {
		t.Skipf("contract: OpenAPI spec not found at %s; put openai-admin.yaml at ../shared/openapi/ beside the repository or set %s", path, SpecEnv)
	}
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	return spec
}

func parse(path string) (*Spec, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load spec: %w at %s", ErrSpecNotFound, path)
		}
		return nil, fmt.Errorf("load spec %s: %w", path, err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load spec %s: %w", path, err)
	}
	adjust(doc)
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate spec %s: %w", path, err)
	}
	// Route on the path alone: the spec's server is https://api.openai.com/v1,
	// the emulator runs on loopback under the same /v1 prefix.
	doc.Servers = openapi3.Servers{{URL: DefaultBasePath}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("index spec %s: %w", path, err)
	}
	s := &Spec{path: path, doc: doc, router: router}
	if doc.Components != nil {
		s.errorSchema = doc.Components.Schemas["ErrorResponse"]
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID != "" {
				s.operations = append(s.operations, op.OperationID)
			}
		}
	}
	sort.Strings(s.operations)
	return s, nil
}

// adjust declares in memory what clients really send for object-valued query
// parameters. The spec gives no style for effective_at, so OpenAPI's default
// (form, explode) would mean a bare gt=...; the SDK and every real client send
// effective_at[gt]=..., which is deepObject. Without this, kin-openapi ignores
// effective_at[...] entirely instead of validating it.
func adjust(doc *openapi3.T) {
	explode := true
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value == nil || p.Value.In != openapi3.ParameterInQuery || p.Value.Style != "" {
					continue
				}
				if p.Value.Schema != nil && p.Value.Schema.Value != nil && p.Value.Schema.Value.Type.Is(openapi3.TypeObject) {
					p.Value.Style = openapi3.SerializationDeepObject
					p.Value.Explode = &explode
				}
			}
		}
	}
}
