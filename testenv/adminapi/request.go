package adminapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const maxBody = 1 << 20

// jsonBody is a request body read field by field, so every type error names its field.
type jsonBody map[string]json.RawMessage

// readBody parses the request's JSON object. An empty body is an empty
// object unless required.
func readBody(r *http.Request, required bool) (jsonBody, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, invalid("", "could not read the request body")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		if required {
			return nil, invalid("", "a JSON body is required")
		}
		return jsonBody{}, nil
	}
	var b jsonBody
	if err := json.Unmarshal(data, &b); err != nil || b == nil {
		return nil, invalid("", "the request body must be a JSON object")
	}
	return b, nil
}

func (b jsonBody) has(name string) bool {
	v, ok := b[name]
	return ok && string(v) != "null"
}

// str returns a string field; absent and null both give ok=false.
func (b jsonBody) str(name string) (string, bool, *apiError) {
	if !b.has(name) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(b[name], &s); err != nil {
		return "", false, invalid(name, "'%s' must be a string", name)
	}
	return s, true, nil
}

func (b jsonBody) requiredStr(name string) (string, *apiError) {
	s, ok, err := b.str(name)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		return "", invalid(name, "'%s' is required", name)
	}
	return s, nil
}

func (b jsonBody) boolean(name string) (bool, bool, *apiError) {
	if !b.has(name) {
		return false, false, nil
	}
	var v bool
	if err := json.Unmarshal(b[name], &v); err != nil {
		return false, false, invalid(name, "'%s' must be a boolean", name)
	}
	return v, true, nil
}

func (b jsonBody) integer(name string) (int64, bool, *apiError) {
	if !b.has(name) {
		return 0, false, nil
	}
	var v int64
	if err := json.Unmarshal(b[name], &v); err != nil {
		return 0, false, invalid(name, "'%s' must be an integer", name)
	}
	return v, true, nil
}

func (b jsonBody) strings(name string) ([]string, bool, *apiError) {
	if !b.has(name) {
		return nil, false, nil
	}
	var v []string
	if err := json.Unmarshal(b[name], &v); err != nil {
		return nil, false, invalid(name, "'%s' must be an array of strings", name)
	}
	return v, true, nil
}

func (b jsonBody) object(name string) (jsonBody, bool, *apiError) {
	if !b.has(name) {
		return nil, false, nil
	}
	var v jsonBody
	if err := json.Unmarshal(b[name], &v); err != nil || v == nil {
		return nil, false, invalid(name, "'%s' must be an object", name)
	}
	return v, true, nil
}

func oneOf(param, v string, allowed ...string) *apiError {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return invalid(param, "'%s' must be one of %s", param, strings.Join(allowed, ", "))
}

// query reads list parameters. Arrays are accepted as key=v and key[]=v,
// since the SDK sends brackets where the spec names none.
type query url.Values

func (q query) get(name string) string { return url.Values(q).Get(name) }

func (q query) has(name string) bool { _, ok := q[name]; return ok }

func (q query) array(name string) []string {
	out := append([]string{}, q[name]...)
	return append(out, q[name+"[]"]...)
}

// limit parses limit, default def, allowed min..100.
func (q query) limit(def, min int) (int, *apiError) {
	if !q.has("limit") {
		return def, nil
	}
	n, err := strconv.Atoi(q.get("limit"))
	if err != nil || n < min || n > 100 {
		return 0, invalid("limit", "limit must be an integer between %d and 100", min)
	}
	if n == 0 {
		return def, nil
	}
	return n, nil
}

func (q query) boolean(name string, def bool) (bool, *apiError) {
	if !q.has(name) {
		return def, nil
	}
	v, err := strconv.ParseBool(q.get(name))
	if err != nil {
		return false, invalid(name, "'%s' must be true or false", name)
	}
	return v, nil
}

func (q query) order() (desc bool, err *apiError) {
	switch q.get("order") {
	case "", "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, invalid("order", "order must be asc or desc")
}
