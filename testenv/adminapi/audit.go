package adminapi

import (
	"encoding/json"
	"strings"

	"github.com/orgwarden/orgwarden/testenv/adminapi/internal/auditlog"
)

// Audit events for mutations. The actor is the admin key used, as the API
// records it: {"type":"api_key","api_key":{"id":<key id>,"type":"user","user":{...}}}.
// The project is the one in the request path for project-scoped calls, and
// the default project otherwise ("admin actions taken via Admin API keys are
// associated with the default project").

func (c *call) actor() *auditlog.Actor {
	o := c.key.owner
	return &auditlog.Actor{Type: "api_key", APIKeyID: c.key.id, APIKeyType: "user", UserID: o.id, UserEmail: o.email}
}

// event appends one event; projectID "" means the default project.
func (e *Emulator) event(at int64, actor *auditlog.Actor, projectID, typ, resource, detail string) {
	ev := auditlog.Event{EffectiveAt: at, Type: typ, Actor: actor, ResourceID: resource, Detail: detail}
	if projectID == "" {
		projectID = e.defaultProj
	}
	if p, ok := e.projects.get(projectID); ok {
		ev.Project = &auditlog.Project{ID: p.id, Name: p.name}
	}
	if _, err := e.audit.Append(ev); err != nil {
		// Only a full store (4 billion events) or an id clash with a raw event fails;
		// losing an audit event silently would hide bugs in the code under test.
		panic("emulator: " + err.Error())
	}
}

func (c *call) event(projectID, typ, resource, detail string) {
	c.e.event(c.now, c.actor(), projectID, typ, resource, detail)
}

// members renders JSON object members in the given order: members("data", v) -> "data":{...}.
func members(kv ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, err := json.Marshal(kv[i+1])
		if err != nil {
			panic("emulator: audit detail: " + err.Error())
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	return b.String()
}

// obj is an ordered JSON object for audit payloads.
type obj []any

func (o obj) MarshalJSON() ([]byte, error) { return []byte("{" + members(o...) + "}"), nil }
