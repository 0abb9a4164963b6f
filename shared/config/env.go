// Package config reads orgwarden's configuration from environment variables
// into typed values and reports every problem at once, with the variable's
// name, so a misconfigured function fails at init with one clear error.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Lookup finds an environment variable; os.LookupEnv in production, a map
// in tests.
type Lookup func(name string) (string, bool)

// OSEnv reads the process environment. It can list its names (Names).
func OSEnv() Lookup {
	return func(name string) (string, bool) {
		if name == namesKey {
			var names []string
			for _, kv := range os.Environ() {
				if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
					names = append(names, k)
				}
			}
			return strings.Join(names, "\x00"), true
		}
		return os.LookupEnv(name)
	}
}

// MapEnv reads from m. It can list its names (Names).
func MapEnv(m map[string]string) Lookup {
	return func(name string) (string, bool) {
		if name == namesKey {
			names := make([]string, 0, len(m))
			for k := range m {
				names = append(names, k)
			}
			return strings.Join(names, "\x00"), true
		}
		v, ok := m[name]
		return v, ok
	}
}

// Reader reads typed values and collects errors; call Err when done.
type Reader struct {
	lookup Lookup
	errs   []error
}

// NewReader returns a reader over lookup.
func NewReader(lookup Lookup) *Reader { return &Reader{lookup: lookup} }

// Err returns every problem found so far, joined, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Fail records a problem found by the caller's own validation.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *Reader) raw(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the variable or def when unset or empty.
func (r *Reader) String(name, def string) string {
	if v, ok := r.raw(name); ok {
		return v
	}
	return def
}

// Required returns the variable and records an error when it is unset.
func (r *Reader) Required(name string) string {
	v, ok := r.raw(name)
	if !ok {
		r.Fail(name, "is required")
	}
	return v
}

// Bool accepts true/false, 1/0, yes/no, on/off.
func (r *Reader) Bool(name string, def bool) bool {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	r.Fail(name, "%q is not a boolean (true or false)", v)
	return def
}

// Int reads an integer within [min, max].
func (r *Reader) Int(name string, def, min, max int) int {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.Fail(name, "%q is not an integer", v)
		return def
	}
	if n < min || n > max {
		r.Fail(name, "%d is out of range [%d, %d]", n, min, max)
		return def
	}
	return n
}

// Int64 reads an integer within [min, max].
func (r *Reader) Int64(name string, def, min, max int64) int64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		r.Fail(name, "%q is not an integer", v)
		return def
	}
	if n < min || n > max {
		r.Fail(name, "%d is out of range [%d, %d]", n, min, max)
		return def
	}
	return n
}

// Float reads a number within [min, max].
func (r *Reader) Float(name string, def, min, max float64) float64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.Fail(name, "%q is not a number", v)
		return def
	}
	if f < min || f > max {
		r.Fail(name, "%g is out of range [%g, %g]", f, min, max)
		return def
	}
	return f
}

// Duration reads a duration within [min, max] (see ParseDuration).
func (r *Reader) Duration(name string, def, min, max time.Duration) time.Duration {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	d, err := ParseDuration(v)
	if err != nil {
		r.Fail(name, "%v", err)
		return def
	}
	if d < min || d > max {
		r.Fail(name, "%s is out of range [%s, %s]", d, min, max)
		return def
	}
	return d
}

// List splits a comma-separated variable, trimming spaces and dropping
// empty entries.
func (r *Reader) List(name string) []string {
	v, ok := r.raw(name)
	if !ok {
		return nil
	}
	return SplitList(v)
}

// SplitList splits a comma-separated list, trimming spaces and dropping
// empty entries.
func SplitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseDuration is time.ParseDuration plus a day unit: "14d", "1d12h".
// Operators think of key and invite ages in days.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %q: want e.g. 90d, 36h or 15m", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 90d, 36h or 15m", s)
	}
	return days + d, nil
}

// Lookup returns the reader's variable lookup, for packages that read
// further settings of their own (the AWS SDK's endpoint variables).
func (r *Reader) Lookup() Lookup { return r.lookup }

// FormatDays renders a duration the way operators configure ages: whole
// days ("14d"), or whole hours below a day ("5h"). It is for messages, so it
// rounds down.
func FormatDays(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
