package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/restore"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	localsqs "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
)

// offboardingDemo offboards a seeded person through the real queue: a dry
// run, then a batch with the person, an organization owner and a malformed
// message, then a redelivery; it shows the journal and what a restore
// would do.
func offboardingDemo() demoStep {
	return demoStep{name: "offboarding", run: runOffboardingDemo}
}

func runOffboardingDemo(ctx context.Context, d *demo) error {
	leaver, owner, err := demoLeaver(d.emu)
	if err != nil {
		return err
	}
	// A re-sent invite still pending: it must go too.
	if _, err := d.emu.AddInvite(adminapi.NewInvite{Email: strings.ToUpper(leaver.Email[:1]) + leaver.Email[1:], Projects: []adminapi.InviteProject{}}); err != nil {
		return err
	}
	start := holdingsOf(d.emu, leaver.ID)
	d.printf("    HR reports that %s is leaving: member of %d projects, owner of %d API keys in them, 1 pending invite\n",
		leaver.Email, len(start.memberships), start.keys)
	if start.dormantKeys > 0 {
		d.printf("    (and of %d key(s) in projects they had already left: listed as inactive, outside offboarding's scope)\n", start.dormantKeys)
	}

	var logs bytes.Buffer
	h, err := offboardingFunction().handler(ctx, d.env(nil), io.MultiWriter(d.logs, &logs))
	if err != nil {
		return err
	}
	q := &demoQueue{client: d.aws.SQS.Client(), url: d.resource.QueueURL, arn: localsqs.QueueARN("orgwarden-offboarding")}

	// 1. A dry run asked for in the message itself.
	before := len(d.emu.MutatingRequests())
	if err := q.send(ctx, fmt.Sprintf(`{"email":%q,"ticket":"HR-2041","reason":"last day","dry_run":true}`, leaver.Email)); err != nil {
		return err
	}
	if _, err := q.deliver(ctx, h); err != nil {
		return err
	}
	sums := demoSummaries(logs.String())
	dry := sums[len(sums)-1]
	d.printf("    dry run (\"dry_run\": true): would remove %s; changes sent: %d\n", counts(dry.Done), len(d.emu.MutatingRequests())-before)

	// 2. A batch as the event source mapping delivers it.
	bodies := []string{
		fmt.Sprintf(`{"email":%q,"ticket":"HR-2041","reason":"last day"}`, strings.ToUpper(leaver.Email)),
		fmt.Sprintf(`{"email":%q,"ticket":"HR-2042"}`, owner.Email),
		`{"email": "someone@example.com", "dryrun": true}`,
	}
	for _, b := range bodies {
		if err := q.send(ctx, b); err != nil {
			return err
		}
	}
	logs.Reset()
	resp, err := q.deliver(ctx, h)
	if err != nil {
		return err
	}
	d.printf("    batch of %d messages from SQS; batch item failures: %d\n", len(bodies), len(resp.BatchItemFailures))
	var rows [][]string
	var leaverSum offboard.Summary
	for _, s := range demoSummaries(logs.String()) {
		who, what := s.Email, string(s.Outcome)
		if who == "" {
			who = "(rejected message)"
		}
		detail := counts(s.Done)
		if s.DeadLettered {
			what += ", dead-lettered"
			detail = s.Error
		}
		if strings.EqualFold(s.Email, leaver.Email) {
			leaverSum = s
		}
		rows = append(rows, []string{who, what, truncateDemo(detail, 70)})
	}
	d.table("person,outcome,detail", rows)
	dead := d.aws.SQS.Messages("orgwarden-offboarding-dlq")
	d.printf("    dead-letter queue: %d messages, each with orgwarden-error-kind and orgwarden-error-reason\n", len(dead))

	// 3. The journal: exactly what was removed, and from where.
	if leaverSum.Journal == "" {
		return fmt.Errorf("no journal for %s (outcome %s: %s)", leaver.Email, leaverSum.Outcome, leaverSum.Error)
	}
	rec, err := journal.Read(ctx, d.aws.S3.Client(), d.resource.StateBucket, journal.DefaultPrefix, leaverSum.Journal)
	if err != nil {
		return err
	}
	d.printf("    journal %s\n", leaverSum.Journal)
	var jrows [][]string
	for _, it := range offboard.Items(rec) {
		id := it.ID
		if it.Name != "" {
			id += " (" + it.Name + ")"
		}
		jrows = append(jrows, []string{it.Type, id, it.Role, string(it.Outcome)})
	}
	d.table("item,id,role,outcome", jrows)
	for _, sa := range rec.ServiceAccounts {
		d.printf("    for review: service account %s (%s) in %s, a project %s owned\n", sa.Name, sa.ID, sa.ProjectID, leaver.Email)
	}

	// 4. SQS delivers the same request again: nothing left to do.
	before = len(d.emu.MutatingRequests())
	if err := q.send(ctx, bodies[0]); err != nil {
		return err
	}
	logs.Reset()
	if _, err := q.deliver(ctx, h); err != nil {
		return err
	}
	again := demoSummaries(logs.String())
	d.printf("    redelivered: %s (earlier: %s); changes sent: %d\n", again[len(again)-1].Outcome, counts(again[len(again)-1].Earlier),
		len(d.emu.MutatingRequests())-before)

	// 5. What `orgwarden restore --record ...` (a preview) would do.
	deps, err := app.Load(ctx, offboard.Function, config.NewReader(d.env(nil)), app.Options{Out: d.logs})
	if err != nil {
		return err
	}
	client, err := deps.AdminClient(ctx, true)
	if err != nil {
		return err
	}
	rep, err := restore.Restore(ctx, client, rec, "", restore.Options{})
	if err != nil {
		return err
	}
	for _, a := range rep.Actions {
		if a.What == "invite" {
			d.printf("    restore --record %s --dry-run: %s invite as %s, %s\n", leaverSum.Journal, a.Outcome, a.Role, a.Note)
		}
	}
	d.printf("    restore cannot bring back: %d revoked key(s) (new keys needed), the old user id\n", countRevoked(rec))

	if m, k := holdingsOf(d.emu, leaver.ID).memberships, keysLeft(d.emu, start.keysInScope); len(m) > 0 || k > 0 || userExists(d.emu, leaver.Email) {
		return fmt.Errorf("%s still has %d memberships and %d keys", leaver.Email, len(m), k)
	}
	if !userExists(d.emu, owner.Email) {
		return fmt.Errorf("the organization owner %s was removed", owner.Email)
	}
	if len(dead) != 2 || len(resp.BatchItemFailures) != 0 {
		return fmt.Errorf("want 2 dead-lettered messages and no retries, got %d and %d", len(dead), len(resp.BatchItemFailures))
	}
	return nil
}

// demoLeaver picks the seeded reader with the most keys in projects they
// belong to, and an owner.
func demoLeaver(emu *adminapi.Emulator) (leaver, owner adminapi.User, err error) {
	best := 0
	for _, u := range emu.Users() {
		if u.Role == "owner" {
			if owner.ID == "" {
				owner = u
			}
			continue
		}
		h := holdingsOf(emu, u.ID)
		if score := 10*h.keys + len(h.memberships); h.keys > 0 && score > best {
			best, leaver = score, u
		}
	}
	if leaver.ID == "" || owner.ID == "" {
		return leaver, owner, fmt.Errorf("the demo organization has no reader with keys, or no owner")
	}
	return leaver, owner, nil
}

// holdings is what a person has in the organization's active projects:
// memberships, keys in those projects, and keys left behind in projects
// they no longer belong to (listed as inactive, out of offboarding's scope).
type holdings struct {
	memberships []string
	keys        int
	dormantKeys int
	keysInScope map[string]bool
}

func holdingsOf(emu *adminapi.Emulator, userID string) holdings {
	h := holdings{keysInScope: map[string]bool{}}
	for _, p := range emu.Projects() {
		if p.Status != "active" {
			continue
		}
		member := slices.ContainsFunc(emu.ProjectUsers(p.ID), func(pu adminapi.ProjectUser) bool { return pu.UserID == userID })
		if member {
			h.memberships = append(h.memberships, p.ID)
		}
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			switch {
			case k.OwnerID != userID:
			case member:
				h.keys++
				h.keysInScope[p.ID+"/"+k.ID] = true
			default:
				h.dormantKeys++
			}
		}
	}
	return h
}

// keysLeft counts the keys of scope that still exist.
func keysLeft(emu *adminapi.Emulator, scope map[string]bool) int {
	n := 0
	for _, p := range emu.Projects() {
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			if scope[p.ID+"/"+k.ID] {
				n++
			}
		}
	}
	return n
}

func userExists(emu *adminapi.Emulator, email string) bool {
	return slices.ContainsFunc(emu.Users(), func(u adminapi.User) bool { return strings.EqualFold(u.Email, email) })
}

func countRevoked(rec *journal.Record) int {
	n := 0
	for _, k := range rec.APIKeys {
		if k.Outcome == journal.Removed {
			n++
		}
	}
	return n
}

func counts(c *offboard.Counts) string {
	if c == nil {
		return ""
	}
	user := "user kept"
	if c.UserRemoved {
		user = "user removed"
	}
	return fmt.Sprintf("%d memberships, %d keys, %d invites, %s", c.Projects, c.APIKeys, c.Invites, user)
}

func truncateDemo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// demoQueue plays the Lambda event source mapping: it receives a batch,
// hands it to the handler as an SQS event, and deletes what succeeded.
type demoQueue struct {
	client   *sqs.Client
	url, arn string
}

func (q *demoQueue) send(ctx context.Context, body string) error {
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"hris": {DataType: aws.String("String"), StringValue: aws.String("demo")},
		}})
	if err != nil {
		return fmt.Errorf("send to the offboarding queue: %w", err)
	}
	return nil
}

func (q *demoQueue) deliver(ctx context.Context, handler any) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"}})
	if err != nil {
		return resp, fmt.Errorf("receive from the offboarding queue: %w", err)
	}
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		rec := events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: map[string]string{},
			MessageAttributes: map[string]events.SQSMessageAttribute{}, EventSource: "aws:sqs", EventSourceARN: q.arn, AWSRegion: "us-east-1"}
		for k, v := range m.Attributes {
			rec.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
		}
		ev.Records = append(ev.Records, rec)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return resp, err
	}
	raw, err := lambda.NewHandler(handler).Invoke(ctx, payload)
	if err != nil {
		return resp, fmt.Errorf("offboarding handler: %w", err)
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return resp, err
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			continue
		}
		if _, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			return resp, fmt.Errorf("delete message: %w", err)
		}
	}
	return resp, nil
}

// demoSummaries reads the handler's summary lines, in order.
func demoSummaries(logs string) []offboard.Summary {
	var out []offboard.Summary
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			Message string           `json:"message"`
			Summary offboard.Summary `json:"summary"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "summary" && line.Summary.MessageID != "" {
			out = append(out, line.Summary)
		}
	}
	return out
}
