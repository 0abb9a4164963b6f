package adminapi

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/orgwarden/orgwarden/testenv/adminapi/internal/auditlog"
)

// listAuditLogs serves GET /organization/audit_logs: newest first, after
// moves to older events, before to newer ones.
func listAuditLogs(c *call) (any, *apiError) {
	q := auditlog.Query{
		ProjectIDs:  c.q.array("project_ids"),
		EventTypes:  c.q.array("event_types"),
		ActorIDs:    c.q.array("actor_ids"),
		ActorEmails: c.q.array("actor_emails"),
		ResourceIDs: c.q.array("resource_ids"),
		After:       c.q.get("after"),
		Before:      c.q.get("before"),
	}
	var err *apiError
	if q.Limit, err = c.q.limit(20, 1); err != nil {
		return nil, err
	}
	if q.TenantOnly, err = c.q.boolean("tenant_only", false); err != nil {
		return nil, err
	}
	if q.EffectiveAt, err = effectiveAt(c.q); err != nil {
		return nil, err
	}
	for _, t := range q.EventTypes {
		if !auditlog.KnownType(t) {
			return nil, invalid("event_types", "'%s' is not an audit log event type", t)
		}
	}
	page, lerr := c.e.audit.List(q)
	var qe *auditlog.QueryError
	if errors.As(lerr, &qe) {
		return nil, invalid(qe.Param, "%s", qe.Message)
	}
	if lerr != nil {
		return nil, &apiError{status: 500, typ: "server_error", message: "list audit logs failed"}
	}
	return renderAuditPage(page), nil
}

// effectiveAt parses effective_at[gt|gte|lt|lte] (deepObject, as clients send it).
func effectiveAt(q query) (auditlog.Range, *apiError) {
	var r auditlog.Range
	for key, vals := range q {
		op, ok := strings.CutPrefix(key, "effective_at[")
		if !ok {
			if key == "effective_at" {
				return r, invalid("effective_at", "use effective_at[gt], [gte], [lt] or [lte]")
			}
			continue
		}
		op = strings.TrimSuffix(op, "]")
		v, err := strconv.ParseInt(vals[len(vals)-1], 10, 64)
		if err != nil {
			return r, invalid(key, "%s must be a Unix timestamp in seconds", key)
		}
		switch op {
		case "gt":
			r.GT = &v
		case "gte":
			r.GTE = &v
		case "lt":
			r.LT = &v
		case "lte":
			r.LTE = &v
		default:
			return r, invalid(key, "unknown effective_at operator %q", op)
		}
	}
	return r, nil
}

// renderAuditPage writes the list envelope around the stored events, whose
// bytes go out unchanged (events appended raw keep their exact bytes).
func renderAuditPage(p auditlog.Page) rawJSON {
	size := 128
	for _, d := range p.Data {
		size += len(d) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"object":"list","data":[`...)
	for i, d := range p.Data {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, d...)
	}
	b = append(b, `],"first_id":`...)
	first, last := "null", "null"
	if n := len(p.IDs); n > 0 {
		f, _ := json.Marshal(p.IDs[0])
		l, _ := json.Marshal(p.IDs[n-1])
		first, last = string(f), string(l)
	}
	b = append(b, first...)
	b = append(b, `,"last_id":`...)
	b = append(b, last...)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, p.HasMore)
	b = append(b, '}')
	return b
}
