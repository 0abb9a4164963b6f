package contract

import (
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// normalizeQuery maps the query a real client sends onto the parameter names
// the spec declares, and lists the keys that match no declared parameter.
//
// The SDK writes every array as key[]=v, also for parameters the spec names
// without brackets (users' emails); the spec names some parameters with the
// brackets in the name (audit logs' project_ids[]). Both spellings are
// accepted in either direction. Object parameters arrive as name[prop]=v
// (deepObject, see adjust); keys whose prop the schema does not have are
// reported, since kin-openapi would silently ignore them.
func normalizeQuery(route *routers.Route, q url.Values) (url.Values, []string) {
	params := map[string]*openapi3.Parameter{}
	collect := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				params[p.Value.Name] = p.Value
			}
		}
	}
	collect(route.PathItem.Parameters)
	collect(route.Operation.Parameters)

	out := url.Values{}
	var unknown []string
	for key, vals := range q {
		switch {
		case params[key] != nil:
			out[key] = append(out[key], vals...)
		case strings.HasSuffix(key, "[]") && isArray(params[strings.TrimSuffix(key, "[]")]):
			name := strings.TrimSuffix(key, "[]")
			out[name] = append(out[name], vals...)
		case isArray(params[key+"[]"]):
			out[key+"[]"] = append(out[key+"[]"], vals...)
		case deepObjectKeyKnown(params, key):
			out[key] = append(out[key], vals...)
		default:
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	return out, unknown
}

func isArray(p *openapi3.Parameter) bool {
	return p != nil && p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is(openapi3.TypeArray)
}

// deepObjectKeyKnown reports whether key is name[prop] for an object parameter that has prop.
func deepObjectKeyKnown(params map[string]*openapi3.Parameter, key string) bool {
	open := strings.IndexByte(key, '[')
	if open <= 0 || !strings.HasSuffix(key, "]") {
		return false
	}
	p := params[key[:open]]
	if p == nil || p.Style != openapi3.SerializationDeepObject || p.Schema == nil || p.Schema.Value == nil {
		return false
	}
	_, ok := p.Schema.Value.Properties[key[open+1:len(key)-1]]
	return ok
}
