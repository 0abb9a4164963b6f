package adminapi

import "net/http"

// Hosted tool permissions and hard spend limits (organization and project).
// The spec's audit event types have none for either (its usage_limit and
// billing types are tenant.* ChatGPT workspace events, not API ones), so
// changing them records no audit event, as for model permissions and data
// retention.

// hostedTools are the tools the spec's ProjectHostedToolPermissions names, in its order.
var hostedTools = []string{"file_search", "web_search", "image_generation", "mcp", "code_interpreter"}

// toolsBody renders every tool: the spec requires all five keys. A project
// starts with every tool enabled (the spec's example).
func toolsBody(p *project) map[string]struct {
	Enabled bool `json:"enabled"`
} {
	out := make(map[string]struct {
		Enabled bool `json:"enabled"`
	}, len(hostedTools))
	for _, t := range hostedTools {
		out[t] = struct {
			Enabled bool `json:"enabled"`
		}{!p.toolsDisabled[t]}
	}
	return out
}

func getHostedTools(c *call) (any, *apiError) {
	return withProject(c, false, func(p *project) (any, *apiError) { return toolsBody(p), nil })
}

// setHostedTools applies the tools the body names; absent or null keys keep
// their value (the spec's update request makes every key optional and nullable).
func setHostedTools(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) {
		b, err := readBody(c.r, true)
		if err != nil {
			return nil, err
		}
		for name := range b {
			if !isHostedTool(name) && b.has(name) {
				return nil, invalid(name, "unknown hosted tool '%s'", name)
			}
		}
		next := map[string]bool{}
		for _, t := range hostedTools {
			next[t] = p.toolsDisabled[t]
			o, has, err := b.object(t)
			if err != nil {
				return nil, err
			}
			if !has {
				continue
			}
			v, has, err := o.boolean("enabled")
			if err != nil {
				return nil, invalid(t+".enabled", "%s", err.message)
			}
			if !has {
				return nil, invalid(t+".enabled", "'%s.enabled' is required", t)
			}
			next[t] = !v
		}
		p.toolsDisabled = next
		return toolsBody(p), nil
	})
}

func isHostedTool(name string) bool {
	for _, t := range hostedTools {
		if t == name {
			return true
		}
	}
	return false
}

// spendLimit is a hard spend limit in integer cents.
type spendLimit struct {
	thresholdAmount int64
	currency        string
	interval        string
}

type spendLimitBody struct {
	Object          string `json:"object"`
	ThresholdAmount int64  `json:"threshold_amount"`
	Currency        string `json:"currency"`
	Interval        string `json:"interval"`
	Enforcement     struct {
		Status string `json:"status"`
	} `json:"enforcement"`
}

func (l *spendLimit) body(object string) spendLimitBody {
	b := spendLimitBody{Object: object, ThresholdAmount: l.thresholdAmount, Currency: l.currency, Interval: l.interval}
	// The emulator bills nothing, so a limit is always in force.
	b.Enforcement.Status = "enforcing"
	return b
}

const (
	orgLimit     = "organization.spend_limit"
	projectLimit = "project.spend_limit"
)

// noLimit is the answer to reading or deleting a limit that is not set. The
// spec declares only 200; a 404 is what the API answers for a missing
// resource, and what a client must tell apart from "no restriction".
func noLimit(object string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
		message: "No hard spend limit is set (" + object + ").", code: "not_found"}
}

func readLimit(c *call) (*spendLimit, *apiError) {
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	amount, has, err := b.integer("threshold_amount")
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, invalid("threshold_amount", "'threshold_amount' is required (integer cents)")
	}
	if amount < 1 {
		return nil, invalid("threshold_amount", "'threshold_amount' must be at least 1")
	}
	currency, err := b.requiredStr("currency")
	if err != nil {
		return nil, err
	}
	if err := oneOf("currency", currency, "USD"); err != nil {
		return nil, err
	}
	interval, err := b.requiredStr("interval")
	if err != nil {
		return nil, err
	}
	if err := oneOf("interval", interval, "month"); err != nil {
		return nil, err
	}
	return &spendLimit{thresholdAmount: amount, currency: currency, interval: interval}, nil
}

func getLimit(l *spendLimit, object string) (any, *apiError) {
	if l == nil {
		return nil, noLimit(object)
	}
	return l.body(object), nil
}

func setLimit(c *call, slot **spendLimit, object string) (any, *apiError) {
	l, err := readLimit(c)
	if err != nil {
		return nil, err
	}
	*slot = l
	return l.body(object), nil
}

func deleteLimit(slot **spendLimit, object string) (any, *apiError) {
	if *slot == nil {
		return nil, noLimit(object)
	}
	*slot = nil
	return struct {
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}{object + ".deleted", true}, nil
}

func getOrgLimit(c *call) (any, *apiError)    { return getLimit(c.e.orgSpendLimit, orgLimit) }
func setOrgLimit(c *call) (any, *apiError)    { return setLimit(c, &c.e.orgSpendLimit, orgLimit) }
func deleteOrgLimit(c *call) (any, *apiError) { return deleteLimit(&c.e.orgSpendLimit, orgLimit) }

func getProjectLimit(c *call) (any, *apiError) {
	return withProject(c, false, func(p *project) (any, *apiError) { return getLimit(p.spendLimit, projectLimit) })
}

func setProjectLimit(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return setLimit(c, &p.spendLimit, projectLimit) })
}

func deleteProjectLimit(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return deleteLimit(&p.spendLimit, projectLimit) })
}
