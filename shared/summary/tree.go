package summary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// The summary is handled as a JSON tree, not as its Go type, so that every
// function's summary is bounded, flattened to CSV and linked the same way
// without each one writing its own truncation. Objects keep their key order,
// so the published summary reads like the struct it came from.

// object is a JSON object that keeps the order of its keys.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) { v, ok := o.vals[k]; return v, ok }

// MarshalJSON writes the keys in their order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// parse decodes JSON into *object, []any, string, json.Number, bool or nil.
func parse(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return parseValue(dec)
}

func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := newObject()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("object key %v", kt)
			}
			v, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
		}
		_, err := dec.Token() // '}'
		return o, err
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// cutter bounds a tree: lists to maxItems, strings to maxString bytes. It
// records how many items each list lost, by path ("keys.deletions").
type cutter struct {
	maxItems, maxString int
	leftOut             map[string]int
	total               int
	cutStrings          bool
	dropped             []string // top-level fields left out whole
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *cutter) cut(v any, path string) any {
	switch x := v.(type) {
	case *object:
		o := newObject()
		for _, k := range x.keys {
			o.set(k, c.cut(x.vals[k], join(path, k)))
		}
		return o
	case []any:
		keep := x
		if len(x) > c.maxItems {
			keep = x[:c.maxItems]
			n := len(x) - c.maxItems
			c.leftOut[path] += n
			c.total += n
		}
		out := make([]any, len(keep))
		for i, e := range keep {
			out[i] = c.cut(e, path)
		}
		return out
	case string:
		if len(x) <= c.maxString {
			return x
		}
		c.cutStrings = true
		n := c.maxString
		for n > 0 && !utf8.RuneStart(x[n]) {
			n--
		}
		return fmt.Sprintf("%s… (%d more bytes)", x[:n], len(x)-n)
	}
	return v
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
