package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// Pending is a decided finding and where it has been delivered.
type Pending struct {
	Finding
	Evidence  bool `json:"evidence_written,omitempty"`
	ASFF      bool `json:"asff_written,omitempty"`
	Published bool `json:"published,omitempty"`
}

// EventBridge identifies findings on the bus.
const (
	EventSource     = "orgwarden"
	EventDetailType = "orgwarden.auditexport.finding"
)

// PutEvents limits (EventBridge quotas): entries per call, and bytes per
// call (the sum of each entry's Source, DetailType and Detail).
const (
	maxEntries      = 10
	maxRequestBytes = 256 * 1024
)

// eventPutter is the part of EventBridge the detector uses.
type eventPutter interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// entrySize is an entry's size as EventBridge counts it.
func entrySize(detail string) int { return len(EventSource) + len(EventDetailType) + len(detail) }

// eventDetail renders a finding for the bus, dropping event ids beyond
// what fits in one entry (the evidence object keeps them all).
func eventDetail(f Finding) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	for entrySize(string(b)) > maxRequestBytes && len(f.EventIDs) > 1 {
		f.EventIDs = f.EventIDs[:len(f.EventIDs)/2]
		if b, err = json.Marshal(struct {
			Finding
			Truncated bool `json:"event_ids_truncated"`
		}{f, true}); err != nil {
			return "", err
		}
	}
	return string(b), nil
}

// publish sends the findings not yet published to bus, at most ten entries
// and 256 KB per call; entries EventBridge reports failed are retried
// twice. It marks what was published and returns the first failure.
func publish(ctx context.Context, eb eventPutter, bus string, out []Pending) error {
	type entry struct {
		i      int
		detail string
	}
	var todo []entry
	for i := range out {
		if out[i].Published {
			continue
		}
		d, err := eventDetail(out[i].Finding)
		if err != nil {
			return err
		}
		todo = append(todo, entry{i, d})
	}
	var firstErr error
	for attempt := 0; attempt < 3 && len(todo) > 0; attempt++ {
		var failed []entry
		for len(todo) > 0 {
			n, size := 0, 0
			for n < len(todo) && n < maxEntries && size+entrySize(todo[n].detail) <= maxRequestBytes {
				size += entrySize(todo[n].detail)
				n++
			}
			batch := todo[:n]
			todo = todo[n:]
			in := &eventbridge.PutEventsInput{}
			for _, e := range batch {
				in.Entries = append(in.Entries, ebtypes.PutEventsRequestEntry{EventBusName: aws.String(bus),
					Source: aws.String(EventSource), DetailType: aws.String(EventDetailType), Detail: aws.String(e.detail),
					Resources: []string{}})
			}
			res, err := eb.PutEvents(ctx, in)
			if err != nil {
				firstErr = cmpErr(firstErr, fmt.Errorf("publish findings to %s: %w", bus, err))
				failed = append(failed, batch...)
				continue
			}
			for j, e := range batch {
				if j < len(res.Entries) && res.Entries[j].ErrorCode != nil {
					firstErr = cmpErr(firstErr, fmt.Errorf("publish finding %s to %s: %s: %s", out[e.i].ID, bus,
						aws.ToString(res.Entries[j].ErrorCode), aws.ToString(res.Entries[j].ErrorMessage)))
					failed = append(failed, e)
					continue
				}
				out[e.i].Published = true
			}
		}
		todo = failed
	}
	if len(todo) == 0 {
		return nil
	}
	return firstErr
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// FindingsPrefix is where findings go in the evidence bucket: beside the
// digests, under an underscore so Athena's table over the data skips it.
func FindingsPrefix(l layout.Layout) string {
	if l.Prefix == "" {
		return "_findings/org_id=" + l.OrgID + "/"
	}
	return l.Prefix + "/_findings/org_id=" + l.OrgID + "/"
}

// EvidenceKey is where a finding's JSON goes: the UTC day of its last event.
func EvidenceKey(l layout.Layout, f Finding) string {
	return FindingsPrefix(l) + dayPath(f.Last) + f.ID + ".json"
}

// ASFFKey is where a finding's Security Hub (ASFF) document goes.
func ASFFKey(l layout.Layout, f Finding) string {
	return FindingsPrefix(l) + "asff/" + dayPath(f.Last) + f.ID + ".json"
}

func dayPath(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return "undated/"
	}
	return t.Format("year=2006/month=01/day=02/")
}

// putOnce writes body at key with If-None-Match: *; an object already there
// (an earlier attempt of the same finding) is success: findings are
// immutable evidence, and the Object Lock bucket could not replace it
// anyway.
func putOnce(ctx context.Context, c objectAPI, bucket, key, kmsKeyID string, body []byte) error {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*")}
	if kmsKeyID != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(kmsKeyID)
	}
	_, err := c.PutObject(ctx, in)
	if err != nil && !errors.Is(objects.Classify(err), objects.ErrExists) {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// ASFF renders a finding in the AWS Security Finding Format (the document
// Security Hub's BatchImportFindings takes). account and region name the
// product ARN of a custom integration (product/<account>/default).
func ASFF(f Finding, account, region string) ([]byte, error) {
	if account == "" {
		account = "000000000000"
	}
	if region == "" {
		region = "us-east-1"
	}
	typ := "TTPs/Initial Access"
	switch {
	case strings.Contains(f.Rule, "org-settings"):
		typ = "Software and Configuration Checks/Industry and Regulatory Standards"
	case strings.Contains(f.Rule, "owner"), strings.Contains(f.Rule, "admin-key"):
		typ = "TTPs/Privilege Escalation"
	case strings.Contains(f.Rule, "login"):
		typ = "TTPs/Credential Access"
	case strings.Contains(f.Rule, "deletion"):
		typ = "Effects/Data Destruction"
	case strings.Contains(f.Rule, "key"):
		typ = "TTPs/Persistence"
	}
	ids := f.EventIDs
	if len(ids) > 50 {
		ids = ids[:50]
	}
	doc := map[string]any{
		"SchemaVersion":   "2018-10-08",
		"Id":              f.ID,
		"ProductArn":      fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", region, account, account),
		"GeneratorId":     "orgwarden/auditexport/" + f.Rule,
		"AwsAccountId":    account,
		"Types":           []string{typ},
		"FirstObservedAt": f.First,
		"LastObservedAt":  f.Last,
		"CreatedAt":       f.DetectedAt,
		"UpdatedAt":       f.DetectedAt,
		"Severity":        map[string]any{"Label": string(f.Severity)},
		"Title":           f.Title,
		"Description":     truncate(f.Description, 1024),
		"Resources": []map[string]any{{
			"Type": "Other", "Id": "openai:organization/" + f.OrgID,
			"Details": map[string]any{"Other": map[string]string{"actor": f.Actor, "actor_email": f.Email, "ip": f.IP}},
		}},
		"ProductFields": map[string]string{"orgwarden/rule": f.Rule, "orgwarden/event_ids": strings.Join(ids, ",")},
		"RecordState":   "ACTIVE",
		"Workflow":      map[string]string{"Status": "NEW"},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
