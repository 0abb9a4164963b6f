package adminapi

import (
	"strings"
)

// Project settings and spend alerts. The spec has no audit event types for
// model permissions, data retention or spend alerts, so changing them records
// none; rate limit updates record rate_limit.updated.

// defaultRateLimits are the per-model limits every project starts with.
var defaultRateLimits = []struct {
	model            string
	rpm, tpm         int64
	imagesPerMinute  int64
	audioMBPerMinute int64
	rpd              int64
	batchTokens      int64
}{
	{"gpt-4o", 10000, 2000000, 0, 0, 0, 200000000},
	{"gpt-4o-mini", 30000, 150000000, 0, 0, 0, 15000000000},
	{"o3", 10000, 30000000, 0, 0, 0, 5000000000},
	{"text-embedding-3-small", 10000, 10000000, 0, 0, 0, 4000000000},
	{"dall-e-3", 7500, 0, 50, 0, 0, 0},
	{"whisper-1", 10000, 0, 0, 0, 0, 0},
	{"tts-1", 10000, 0, 0, 0, 10000, 0},
}

func (e *Emulator) seedRateLimits(p *project) {
	// A zero in the table is a limit the model does not have.
	for _, d := range defaultRateLimits {
		rl := &rateLimit{id: "rl-" + d.model, model: d.model, maxRequestsPer1Minute: d.rpm, maxTokensPer1Minute: d.tpm,
			maxImagesPer1Minute: nullable(d.imagesPerMinute), maxAudioMegabytesPer1Minute: nullable(d.audioMBPerMinute),
			maxRequestsPer1Day: nullable(d.rpd), batch1DayMaxInputTokens: nullable(d.batchTokens)}
		p.rateLimits.add(e.nextSeq(), rl.id, rl)
	}
}

func listRateLimits(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	limit, err := c.q.limit(100, 1)
	if err != nil {
		return nil, err
	}
	return listPageBefore(c, p.rateLimits, limit, false, (*rateLimit).body)
}

func updateRateLimit(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	rl, err := p.rateLimits.find("rate limit", c.params[1])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	fields := []struct {
		name     string
		required *int64
		optional **int64
	}{
		{"max_requests_per_1_minute", &rl.maxRequestsPer1Minute, nil},
		{"max_tokens_per_1_minute", &rl.maxTokensPer1Minute, nil},
		{"max_images_per_1_minute", nil, &rl.maxImagesPer1Minute},
		{"max_audio_megabytes_per_1_minute", nil, &rl.maxAudioMegabytesPer1Minute},
		{"max_requests_per_1_day", nil, &rl.maxRequestsPer1Day},
		{"batch_1_day_max_input_tokens", nil, &rl.batch1DayMaxInputTokens},
	}
	values := map[string]int64{}
	for _, f := range fields {
		v, has, err := b.integer(f.name)
		if err != nil {
			return nil, err
		}
		if !has {
			continue
		}
		if v < 0 {
			return nil, invalid(f.name, "'%s' must not be negative", f.name)
		}
		values[f.name] = v
	}
	changes := obj{}
	for _, f := range fields {
		v, has := values[f.name]
		if !has {
			continue
		}
		if f.required != nil {
			*f.required = v
		} else {
			*f.optional = &v
		}
		changes = append(changes, f.name, v)
	}
	if len(changes) > 0 {
		c.event(p.id, "rate_limit.updated", rl.id, members("changes_requested", changes))
	}
	return rl.body(), nil
}

func modelPermsOf(p *project) modelPermsBody {
	// With no policy set, nothing is restricted: an empty deny list.
	b := modelPermsBody{Object: "project.model_permissions", Mode: "deny_list", ModelIDs: []string{}}
	if p.modelPerms != nil {
		b.Mode, b.ModelIDs = p.modelPerms.mode, append([]string{}, p.modelPerms.modelIDs...)
	}
	return b
}

func getModelPerms(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	return modelPermsOf(p), nil
}

func setModelPerms(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	mode, err := b.requiredStr("mode")
	if err != nil {
		return nil, err
	}
	if err := oneOf("mode", mode, "allow_list", "deny_list"); err != nil {
		return nil, err
	}
	ids, has, err := b.strings("model_ids")
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, invalid("model_ids", "'model_ids' is required")
	}
	p.modelPerms = &modelPerms{mode: mode, modelIDs: append([]string{}, ids...)}
	return modelPermsOf(p), nil
}

func deleteModelPerms(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	p.modelPerms = nil
	return struct {
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}{"project.model_permissions.deleted", true}, nil
}

var (
	projectRetentions = []string{"organization_default", "none", "zero_data_retention", "modified_abuse_monitoring",
		"enhanced_zero_data_retention", "enhanced_modified_abuse_monitoring"}
	orgRetentions = []string{"zero_data_retention", "modified_abuse_monitoring", "enhanced_zero_data_retention",
		"enhanced_modified_abuse_monitoring"}
)

// Data retention: the request field is retention_type, the response field is type.

func getProjectRetention(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	return retentionBody{Object: "project.data_retention", Type: p.retention}, nil
}

func setProjectRetention(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	v, err := retentionType(c, projectRetentions)
	if err != nil {
		return nil, err
	}
	p.retention = v
	return retentionBody{Object: "project.data_retention", Type: p.retention}, nil
}

func getOrgRetention(c *call) (any, *apiError) {
	return retentionBody{Object: "organization.data_retention", Type: c.e.orgRetention}, nil
}

func setOrgRetention(c *call) (any, *apiError) {
	v, err := retentionType(c, orgRetentions)
	if err != nil {
		return nil, err
	}
	c.e.orgRetention = v
	return retentionBody{Object: "organization.data_retention", Type: v}, nil
}

func retentionType(c *call, allowed []string) (string, *apiError) {
	b, err := readBody(c.r, true)
	if err != nil {
		return "", err
	}
	v, err := b.requiredStr("retention_type")
	if err != nil {
		return "", err
	}
	return v, oneOf("retention_type", v, allowed...)
}

// Spend alerts, organization and project: thresholds are integer cents.

func readAlert(c *call, a *spendAlert) *apiError {
	b, err := readBody(c.r, true)
	if err != nil {
		return err
	}
	amount, has, err := b.integer("threshold_amount")
	if err != nil {
		return err
	}
	if !has {
		return invalid("threshold_amount", "'threshold_amount' is required (integer cents)")
	}
	if amount < 0 {
		return invalid("threshold_amount", "'threshold_amount' must not be negative")
	}
	currency, err := b.requiredStr("currency")
	if err != nil {
		return err
	}
	if err := oneOf("currency", currency, "USD"); err != nil {
		return err
	}
	interval, err := b.requiredStr("interval")
	if err != nil {
		return err
	}
	if err := oneOf("interval", interval, "month"); err != nil {
		return err
	}
	ch, has, err := b.object("notification_channel")
	if err != nil {
		return err
	}
	if !has {
		return invalid("notification_channel", "'notification_channel' is required")
	}
	typ, err := ch.requiredStr("type")
	if err != nil {
		return invalid("notification_channel.type", "%s", err.message)
	}
	if err := oneOf("notification_channel.type", typ, "email"); err != nil {
		return err
	}
	recipients, has, err := ch.strings("recipients")
	if err != nil {
		return invalid("notification_channel.recipients", "%s", err.message)
	}
	if !has || len(recipients) == 0 {
		return invalid("notification_channel.recipients", "at least one recipient is required")
	}
	for _, r := range recipients {
		if !strings.Contains(r, "@") {
			return invalid("notification_channel.recipients", "'%s' is not an email address", r)
		}
	}
	prefix, hasPrefix, err := ch.str("subject_prefix")
	if err != nil {
		return invalid("notification_channel.subject_prefix", "%s", err.message)
	}
	a.thresholdAmount, a.currency, a.interval, a.recipients, a.subjectPrefix = amount, currency, interval, recipients, nil
	if hasPrefix {
		a.subjectPrefix = &prefix
	}
	return nil
}

func listAlerts(c *call, alerts *collection[*spendAlert], object string) (any, *apiError) {
	limit, err := c.q.limit(20, 0)
	if err != nil {
		return nil, err
	}
	desc, err := c.q.order()
	if err != nil {
		return nil, err
	}
	return listPageBefore(c, alerts, limit, desc, func(a *spendAlert) spendAlertBody { return a.body(object) })
}

func getAlert(alerts *collection[*spendAlert], id, object string) (any, *apiError) {
	a, err := alerts.find("spend alert", id)
	if err != nil {
		return nil, err
	}
	return a.body(object), nil
}

func createAlert(c *call, alerts *collection[*spendAlert], object string) (any, *apiError) {
	a := &spendAlert{id: c.e.ids.alertID()}
	if err := readAlert(c, a); err != nil {
		return nil, err
	}
	alerts.add(c.e.nextSeq(), a.id, a)
	return a.body(object), nil
}

func updateAlert(c *call, alerts *collection[*spendAlert], id, object string) (any, *apiError) {
	a, err := alerts.find("spend alert", id)
	if err != nil {
		return nil, err
	}
	next := *a
	if err := readAlert(c, &next); err != nil {
		return nil, err
	}
	*a = next
	return a.body(object), nil
}

func deleteAlert(alerts *collection[*spendAlert], id, object string) (any, *apiError) {
	if !alerts.remove(id) {
		return nil, notFound("spend alert", id)
	}
	return struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}{id, object + ".deleted", true}, nil
}

const (
	orgAlert     = "organization.spend_alert"
	projectAlert = "project.spend_alert"
)

func listOrgAlerts(c *call) (any, *apiError)  { return listAlerts(c, c.e.orgAlerts, orgAlert) }
func createOrgAlert(c *call) (any, *apiError) { return createAlert(c, c.e.orgAlerts, orgAlert) }
func getOrgAlert(c *call) (any, *apiError)    { return getAlert(c.e.orgAlerts, c.params[0], orgAlert) }
func updateOrgAlert(c *call) (any, *apiError) {
	return updateAlert(c, c.e.orgAlerts, c.params[0], orgAlert)
}
func deleteOrgAlert(c *call) (any, *apiError) {
	return deleteAlert(c.e.orgAlerts, c.params[0], orgAlert)
}

func withProject(c *call, active bool, f func(p *project) (any, *apiError)) (any, *apiError) {
	get := c.e.project
	if active {
		get = c.e.activeProject
	}
	p, err := get(c.params[0])
	if err != nil {
		return nil, err
	}
	return f(p)
}

func listProjectAlerts(c *call) (any, *apiError) {
	return withProject(c, false, func(p *project) (any, *apiError) { return listAlerts(c, p.alerts, projectAlert) })
}

func createProjectAlert(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return createAlert(c, p.alerts, projectAlert) })
}

func getProjectAlert(c *call) (any, *apiError) {
	return withProject(c, false, func(p *project) (any, *apiError) { return getAlert(p.alerts, c.params[1], projectAlert) })
}

func updateProjectAlert(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return updateAlert(c, p.alerts, c.params[1], projectAlert) })
}

func deleteProjectAlert(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return deleteAlert(p.alerts, c.params[1], projectAlert) })
}
