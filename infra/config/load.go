package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// CDK context keys the configuration is read from.
const (
	// ContextKey holds a configuration object (the "context" of cdk.json) or its
	// JSON text (-c 'orgwarden={"orgId":"org-..."}').
	ContextKey = "orgwarden"
	// FileContextKey names a JSON configuration file (-c orgwarden.configFile=prod.json).
	FileContextKey = "orgwarden.configFile"
	// overridePrefix starts one-field overrides: -c orgwarden.keyRotation.dryRun=false.
	overridePrefix = ContextKey + "."
)

// FromContext builds the configuration from the CDK context map. Layers, each
// overriding the one before: Default(), the ContextKey object, the file named by
// FileContextKey, then every "orgwarden.<json.path>" key in name order. Unknown
// fields are errors, so a typo never silently falls back to a default. The result
// is validated.
func FromContext(ctx map[string]any) (Config, error) {
	cfg := Default()

	if v, ok := ctx[ContextKey]; ok && v != nil {
		data, err := objectJSON(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ContextKey, err)
		}
		if err := decodeStrict(&cfg, data); err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ContextKey, err)
		}
	}

	if v, ok := ctx[FileContextKey]; ok && v != nil {
		path, isString := v.(string)
		if !isString || path == "" {
			return Config{}, fmt.Errorf("context %q must be a file path, got %v", FileContextKey, v)
		}
		if err := applyFile(&cfg, path); err != nil {
			return Config{}, err
		}
	}

	var keys []string
	for k := range ctx {
		if strings.HasPrefix(k, overridePrefix) && k != FileContextKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := applyOverride(&cfg, k, ctx[k]); err != nil {
			return Config{}, err
		}
	}

	return cfg, cfg.Validate()
}

// FromFile reads a JSON configuration file over the defaults and validates it.
func FromFile(path string) (Config, error) {
	cfg := Default()
	if err := applyFile(&cfg, path); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

func applyFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading configuration file: %w", err)
	}
	if err := decodeStrict(cfg, data); err != nil {
		return fmt.Errorf("configuration file %s: %w", path, err)
	}
	return nil
}

// objectJSON accepts what CDK context can hold for an object: a decoded JSON object
// (from cdk.json) or a string of JSON (from -c on the command line).
func objectJSON(v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return []byte(t), nil
	case map[string]any:
		return json.Marshal(t)
	default:
		return nil, fmt.Errorf("must be a JSON object, got %T", v)
	}
}

// applyOverride sets the single field named by key. Command-line context values
// are always strings, so a string is tried as JSON first (numbers, booleans,
// lists), then as a plain string, then as a comma-separated list.
func applyOverride(cfg *Config, key string, value any) error {
	path := strings.Split(strings.TrimPrefix(key, overridePrefix), ".")
	for _, segment := range path {
		if segment == "" {
			return fmt.Errorf("context %q: empty field name in path", key)
		}
	}
	candidates := []any{value}
	if s, ok := value.(string); ok {
		candidates = nil
		var parsed any
		if json.Unmarshal([]byte(s), &parsed) == nil {
			candidates = append(candidates, parsed)
		}
		candidates = append(candidates, s, splitList(s))
	}

	var firstErr error
	for _, candidate := range candidates {
		doc := candidate
		for i := len(path) - 1; i >= 0; i-- {
			doc = map[string]any{path[i]: doc}
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("context %q: %w", key, err)
		}
		next, err := clone(*cfg)
		if err != nil {
			return err
		}
		if err := decodeStrict(&next, data); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		*cfg = next
		return nil
	}
	return fmt.Errorf("context %q: %w", key, firstErr)
}

func splitList(s string) []string {
	list := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}

// decodeStrict decodes one JSON object into cfg, rejecting unknown fields and trailing data.
func decodeStrict(cfg *Config, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// clone deep-copies c so that a failed decode attempt cannot leave half-written
// slices behind (encoding/json reuses a slice's backing array).
func clone(c Config) (Config, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return Config{}, fmt.Errorf("copying configuration: %w", err)
	}
	var out Config
	if err := json.Unmarshal(data, &out); err != nil {
		return Config{}, fmt.Errorf("copying configuration: %w", err)
	}
	return out, nil
}
