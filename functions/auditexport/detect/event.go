package detect

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Event is the part of an audit event (the AuditLog schema) the rules read.
// Every field but ID, Type and At may be absent.
type Event struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	At   int64  `json:"effective_at"`

	ProjectID   string `json:"project_id,omitempty"`
	ProjectName string `json:"project_name,omitempty"`
	// ActorType is "session" or "api_key".
	ActorType        string `json:"actor_type,omitempty"`
	UserID           string `json:"user_id,omitempty"`
	Email            string `json:"email,omitempty"`
	IP               string `json:"ip,omitempty"`
	APIKeyID         string `json:"api_key_id,omitempty"`
	ServiceAccountID string `json:"service_account_id,omitempty"`

	payload json.RawMessage
	tree    map[string]any // payload, decoded on first use
}

type wireUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

type wireEvent struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	EffectiveAt int64  `json:"effective_at"`
	Project     *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"project"`
	Actor *struct {
		Type    string `json:"type"`
		Session *struct {
			User      *wireUser `json:"user"`
			IPAddress string    `json:"ip_address"`
		} `json:"session"`
		APIKey *struct {
			ID             string    `json:"id"`
			Type           string    `json:"type"`
			User           *wireUser `json:"user"`
			ServiceAccount *struct {
				ID string `json:"id"`
			} `json:"service_account"`
		} `json:"api_key"`
	} `json:"actor"`
}

// ParseEvent reads one audit event as the API sent it, payload included.
func ParseEvent(raw []byte) (Event, error) { return parseEvent(raw, true) }

// parseEvent decodes the members the rules read; the payload (the member
// named after the type) only when withPayload, since finding it means
// decoding the event a second time.
func parseEvent(raw []byte, withPayload bool) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil {
		return Event{}, fmt.Errorf("audit event: %w", err)
	}
	if w.ID == "" || w.Type == "" {
		return Event{}, fmt.Errorf("audit event: no id or type")
	}
	e := Event{ID: w.ID, Type: w.Type, At: w.EffectiveAt}
	if p := w.Project; p != nil {
		e.ProjectID, e.ProjectName = p.ID, p.Name
	}
	if a := w.Actor; a != nil {
		e.ActorType = a.Type
		if s := a.Session; s != nil {
			e.IP = s.IPAddress
			if s.User != nil {
				e.UserID, e.Email = s.User.ID, s.User.Email
			}
		}
		if k := a.APIKey; k != nil {
			e.APIKeyID = k.ID
			if k.User != nil {
				e.UserID, e.Email = k.User.ID, k.User.Email
			}
			if k.ServiceAccount != nil {
				e.ServiceAccountID = k.ServiceAccount.ID
			}
		}
	}
	if withPayload {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(raw, &top); err == nil {
			e.payload = top[w.Type]
		}
	}
	return e, nil
}

// Actor is who did it, for findings and grouping: the user's id, else the
// service account's, else the API key's tracking id.
func (e *Event) Actor() string {
	switch {
	case e.UserID != "":
		return e.UserID
	case e.ServiceAccountID != "":
		return e.ServiceAccountID
	default:
		return e.APIKeyID
	}
}

// Field returns the values at path (see Match); a path with "*" may give
// several.
func (e *Event) Field(path string) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch path {
	case "type":
		return one(e.Type)
	case "actor.type":
		return one(e.ActorType)
	case "actor.user_id":
		return one(e.UserID)
	case "actor.email":
		return one(e.Email)
	case "actor.ip":
		return one(e.IP)
	case "actor.api_key_id":
		return one(e.APIKeyID)
	case "actor.service_account_id":
		return one(e.ServiceAccountID)
	case "actor":
		return one(e.Actor())
	case "project.id":
		return one(e.ProjectID)
	case "project.name":
		return one(e.ProjectName)
	}
	rest, ok := strings.CutPrefix(path, "payload.")
	if !ok || len(e.payload) == 0 {
		return nil
	}
	if e.tree == nil {
		if err := json.Unmarshal(e.payload, &e.tree); err != nil || e.tree == nil {
			e.tree = map[string]any{}
		}
	}
	var out []string
	walk(e.tree, strings.Split(rest, "."), &out)
	return out
}

// walk collects the scalar values at path below v; "*" matches any member.
func walk(v any, path []string, out *[]string) {
	if len(path) == 0 {
		switch x := v.(type) {
		case string:
			*out = append(*out, x)
		case bool, float64:
			*out = append(*out, fmt.Sprint(x))
		case []any:
			for _, item := range x {
				walk(item, nil, out)
			}
		}
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if path[0] == "*" {
		for _, child := range m {
			walk(child, path[1:], out)
		}
		return
	}
	if child, ok := m[path[0]]; ok {
		walk(child, path[1:], out)
	}
}
