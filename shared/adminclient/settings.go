package adminclient

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/pagination"
)

// Project and organization settings a policy holds in place: model and
// hosted tool permissions, data retention, hard spend limits, spend alerts
// and per-model rate limits. Reads return plain values (not SDK types) so
// the callers compare them without knowing the wire; every write goes
// through change (one log line, dry run, outcome).

// ModelPermissions is a project's model policy: mode allow_list or deny_list.
type ModelPermissions struct {
	Mode     string   `json:"mode"`
	ModelIDs []string `json:"model_ids"`
}

// Model permission modes.
const (
	AllowList = "allow_list"
	DenyList  = "deny_list"
)

// Allows reports whether a model may be used under these permissions.
func (m ModelPermissions) Allows(model string) bool {
	in := slices.Contains(m.ModelIDs, model)
	if m.Mode == AllowList {
		return in
	}
	return !in
}

// HostedTools are the tools the API names on hosted_tool_permissions.
var HostedTools = []string{"file_search", "web_search", "image_generation", "mcp", "code_interpreter"}

// SpendLimit is a hard spend limit, in integer cents.
type SpendLimit struct {
	ThresholdAmount int64  `json:"threshold_amount"`
	Currency        string `json:"currency"`
	Interval        string `json:"interval"`
	Enforcement     string `json:"enforcement,omitempty"`
}

// SpendAlert is a spend alert, in integer cents.
type SpendAlert struct {
	ID              string   `json:"id"`
	ThresholdAmount int64    `json:"threshold_amount"`
	Currency        string   `json:"currency"`
	Interval        string   `json:"interval"`
	Recipients      []string `json:"recipients"`
}

// RateLimit is a project's limit for one model. The two per-minute limits
// are required by the spec; the others are left out (absent is not zero).
type RateLimit struct {
	ID                    string `json:"id"`
	Model                 string `json:"model"`
	MaxRequestsPer1Minute int64  `json:"max_requests_per_1_minute"`
	MaxTokensPer1Minute   int64  `json:"max_tokens_per_1_minute"`
}

// ModelPermissions reads a project's model permissions.
func (c *Client) ModelPermissions(ctx context.Context, projectID string) (ModelPermissions, error) {
	res, err := c.org.Projects.ModelPermissions.Get(ctx, projectID)
	if err != nil {
		return ModelPermissions{}, wrap("get model permissions of project "+projectID, err)
	}
	return ModelPermissions{Mode: string(res.Mode), ModelIDs: append([]string{}, res.ModelIDs...)}, nil
}

// SetModelPermissions replaces a project's model permissions.
func (c *Client) SetModelPermissions(ctx context.Context, projectID string, p ModelPermissions, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "set_model_permissions", ProjectID: projectID, Name: p.Mode + ":" + strings.Join(p.ModelIDs, ","), Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.ModelPermissions.Update(ctx, projectID, openai.AdminOrganizationProjectModelPermissionUpdateParams{
				Mode: openai.AdminOrganizationProjectModelPermissionUpdateParamsMode(p.Mode), ModelIDs: append([]string{}, p.ModelIDs...)})
			return err
		})
}

// HostedToolPermissions reads which hosted tools a project may use.
func (c *Client) HostedToolPermissions(ctx context.Context, projectID string) (map[string]bool, error) {
	res, err := c.org.Projects.HostedToolPermissions.Get(ctx, projectID)
	if err != nil {
		return nil, wrap("get hosted tool permissions of project "+projectID, err)
	}
	// Read from the raw body, not the struct: every tool key is required by
	// the spec, and one a future API adds must not read as disabled.
	var raw map[string]struct {
		Enabled *bool `json:"enabled"`
	}
	if err := json.Unmarshal([]byte(res.RawJSON()), &raw); err != nil {
		return nil, fmt.Errorf("get hosted tool permissions of project %s: %w", projectID, err)
	}
	out := map[string]bool{}
	for name, v := range raw {
		if v.Enabled != nil {
			out[name] = *v.Enabled
		}
	}
	return out, nil
}

// SetHostedToolPermissions turns the named tools on or off, leaving the
// others as they are. The body is written here, not by the SDK's params:
// SDK v3.102 drops {"enabled": false} as a zero value (omitzero), so
// disabling a tool through its params would send {} and change nothing.
func (c *Client) SetHostedToolPermissions(ctx context.Context, projectID string, tools map[string]bool, reason string) (Outcome, error) {
	names := make([]string, 0, len(tools))
	body := map[string]map[string]bool{}
	for _, name := range sortedKeys(tools) {
		body[name] = map[string]bool{"enabled": tools[name]}
		names = append(names, name+"="+strconv.FormatBool(tools[name]))
	}
	data, err := json.Marshal(body)
	if err != nil {
		return Failed, err
	}
	return c.change(ctx, Change{Op: "set_hosted_tool_permissions", ProjectID: projectID, Name: strings.Join(names, ","), Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.HostedToolPermissions.Update(ctx, projectID, openai.AdminOrganizationProjectHostedToolPermissionUpdateParams{},
				option.WithRequestBody("application/json", data))
			return err
		})
}

// ProjectDataRetention reads a project's data retention type.
func (c *Client) ProjectDataRetention(ctx context.Context, projectID string) (string, error) {
	res, err := c.org.Projects.DataRetention.Get(ctx, projectID)
	if err != nil {
		return "", wrap("get data retention of project "+projectID, err)
	}
	return string(res.Type), nil
}

// SetProjectDataRetention sets a project's data retention type.
func (c *Client) SetProjectDataRetention(ctx context.Context, projectID, retention, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "set_project_data_retention", ProjectID: projectID, Name: retention, Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.DataRetention.Update(ctx, projectID, openai.AdminOrganizationProjectDataRetentionUpdateParams{
				RetentionType: openai.AdminOrganizationProjectDataRetentionUpdateParamsRetentionType(retention)})
			return err
		})
}

// OrganizationDataRetention reads the organization's data retention type.
func (c *Client) OrganizationDataRetention(ctx context.Context) (string, error) {
	res, err := c.org.DataRetention.Get(ctx)
	if err != nil {
		return "", wrap("get organization data retention", err)
	}
	return string(res.Type), nil
}

// SetOrganizationDataRetention sets the organization's data retention type.
func (c *Client) SetOrganizationDataRetention(ctx context.Context, retention, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "set_organization_data_retention", Name: retention, Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.DataRetention.Update(ctx, openai.AdminOrganizationDataRetentionUpdateParams{
				RetentionType: openai.AdminOrganizationDataRetentionUpdateParamsRetentionType(retention)})
			return err
		})
}

// ProjectSpendLimit reads a project's hard spend limit; nil when none is set
// (the API answers 404).
func (c *Client) ProjectSpendLimit(ctx context.Context, projectID string) (*SpendLimit, error) {
	res, err := c.org.Projects.SpendLimit.Get(ctx, projectID)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("get spend limit of project "+projectID, err)
	}
	return &SpendLimit{ThresholdAmount: res.ThresholdAmount, Currency: string(res.Currency), Interval: string(res.Interval), Enforcement: res.Enforcement.Status}, nil
}

// SetProjectSpendLimit creates or replaces a project's hard spend limit (USD, month).
func (c *Client) SetProjectSpendLimit(ctx context.Context, projectID string, cents int64, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "set_project_spend_limit", ProjectID: projectID, Name: strconv.FormatInt(cents, 10), Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.SpendLimit.Update(ctx, projectID, openai.AdminOrganizationProjectSpendLimitUpdateParams{
				ThresholdAmount: cents, Currency: openai.AdminOrganizationProjectSpendLimitUpdateParamsCurrencyUsd,
				Interval: openai.AdminOrganizationProjectSpendLimitUpdateParamsIntervalMonth})
			return err
		})
}

// OrganizationSpendLimit reads the organization's hard spend limit; nil when none is set.
func (c *Client) OrganizationSpendLimit(ctx context.Context) (*SpendLimit, error) {
	res, err := c.org.SpendLimit.Get(ctx)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("get organization spend limit", err)
	}
	return &SpendLimit{ThresholdAmount: res.ThresholdAmount, Currency: string(res.Currency), Interval: string(res.Interval), Enforcement: res.Enforcement.Status}, nil
}

// SetOrganizationSpendLimit creates or replaces the organization's hard spend limit (USD, month).
func (c *Client) SetOrganizationSpendLimit(ctx context.Context, cents int64, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "set_organization_spend_limit", Name: strconv.FormatInt(cents, 10), Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.SpendLimit.Update(ctx, openai.AdminOrganizationSpendLimitUpdateParams{
				ThresholdAmount: cents, Currency: openai.AdminOrganizationSpendLimitUpdateParamsCurrencyUsd,
				Interval: openai.AdminOrganizationSpendLimitUpdateParamsIntervalMonth})
			return err
		})
}

// ProjectSpendAlerts yields a project's spend alerts.
func (c *Client) ProjectSpendAlerts(ctx context.Context, projectID string) iter.Seq2[SpendAlert, error] {
	seq := list(ctx, c, "list spend alerts of project "+projectID, func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.ProjectSpendAlert], error) {
		return c.org.Projects.SpendAlerts.List(ctx, projectID, openai.AdminOrganizationProjectSpendAlertListParams{Limit: c.limit(), After: after(cursor)})
	})
	return mapSeq(seq, func(a openai.ProjectSpendAlert) SpendAlert {
		return SpendAlert{ID: a.ID, ThresholdAmount: a.ThresholdAmount, Currency: string(a.Currency), Interval: string(a.Interval),
			Recipients: append([]string{}, a.NotificationChannel.Recipients...)}
	})
}

// OrganizationSpendAlerts yields the organization's spend alerts.
func (c *Client) OrganizationSpendAlerts(ctx context.Context) iter.Seq2[SpendAlert, error] {
	seq := list(ctx, c, "list organization spend alerts", func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.OrganizationSpendAlert], error) {
		return c.org.SpendAlerts.List(ctx, openai.AdminOrganizationSpendAlertListParams{Limit: c.limit(), After: after(cursor)})
	})
	return mapSeq(seq, func(a openai.OrganizationSpendAlert) SpendAlert {
		return SpendAlert{ID: a.ID, ThresholdAmount: a.ThresholdAmount, Currency: string(a.Currency), Interval: string(a.Interval),
			Recipients: append([]string{}, a.NotificationChannel.Recipients...)}
	})
}

// CreateProjectSpendAlert adds a monthly USD alert at cents, mailed to recipients.
func (c *Client) CreateProjectSpendAlert(ctx context.Context, projectID string, cents int64, recipients []string, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "create_project_spend_alert", ProjectID: projectID, Name: strconv.FormatInt(cents, 10), Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.SpendAlerts.New(ctx, projectID, openai.AdminOrganizationProjectSpendAlertNewParams{
				ThresholdAmount: cents, Currency: "USD", Interval: "month",
				NotificationChannel: openai.AdminOrganizationProjectSpendAlertNewParamsNotificationChannel{Recipients: recipients}})
			return err
		})
}

// CreateOrganizationSpendAlert adds a monthly USD organization alert at cents.
func (c *Client) CreateOrganizationSpendAlert(ctx context.Context, cents int64, recipients []string, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "create_organization_spend_alert", Name: strconv.FormatInt(cents, 10), Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.SpendAlerts.New(ctx, openai.AdminOrganizationSpendAlertNewParams{
				ThresholdAmount: cents, Currency: "USD", Interval: "month",
				NotificationChannel: openai.AdminOrganizationSpendAlertNewParamsNotificationChannel{Recipients: recipients}})
			return err
		})
}

// RateLimits yields a project's per-model rate limits.
func (c *Client) RateLimits(ctx context.Context, projectID string) iter.Seq2[RateLimit, error] {
	seq := list(ctx, c, "list rate limits of project "+projectID, func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.ProjectRateLimit], error) {
		return c.org.Projects.RateLimits.ListRateLimits(ctx, projectID, openai.AdminOrganizationProjectRateLimitListRateLimitsParams{Limit: c.limit(), After: after(cursor)})
	})
	return mapSeq(seq, func(r openai.ProjectRateLimit) RateLimit {
		return RateLimit{ID: r.ID, Model: r.Model, MaxRequestsPer1Minute: r.MaxRequestsPer1Minute, MaxTokensPer1Minute: r.MaxTokensPer1Minute}
	})
}

// SetRateLimit lowers or raises a project's limits for one model; a zero
// argument leaves that limit as it is.
func (c *Client) SetRateLimit(ctx context.Context, projectID string, rl RateLimit, reason string) (Outcome, error) {
	params := openai.AdminOrganizationProjectRateLimitUpdateRateLimitParams{}
	if rl.MaxRequestsPer1Minute > 0 {
		params.MaxRequestsPer1Minute = openai.Int(rl.MaxRequestsPer1Minute)
	}
	if rl.MaxTokensPer1Minute > 0 {
		params.MaxTokensPer1Minute = openai.Int(rl.MaxTokensPer1Minute)
	}
	name := fmt.Sprintf("%s rpm=%d tpm=%d", rl.Model, rl.MaxRequestsPer1Minute, rl.MaxTokensPer1Minute)
	return c.change(ctx, Change{Op: "set_rate_limit", ID: rl.ID, ProjectID: projectID, Name: name, Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.RateLimits.UpdateRateLimit(ctx, projectID, rl.ID, params)
			return err
		})
}

func mapSeq[T, U any](seq iter.Seq2[T, error], f func(T) U) iter.Seq2[U, error] {
	return func(yield func(U, error) bool) {
		for v, err := range seq {
			var u U
			if err == nil {
				u = f(v)
			}
			if !yield(u, err) || err != nil {
				return
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
