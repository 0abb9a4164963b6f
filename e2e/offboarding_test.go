package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgwarden/orgwarden/e2e/harness"
	infraconfig "github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	localsqs "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// offsetClock is wall time plus an offset a test moves forward, for the
// queue's visibility timeouts (30 minutes in the stack).
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// people picks seeded people: leavers (readers with keys in projects they
// belong to) and an owner.
func people(t *testing.T, emu *adminapi.Emulator, leavers int) (out []adminapi.User, owner adminapi.User) {
	t.Helper()
	for _, u := range emu.Users() {
		if u.Role == "owner" {
			if owner.ID == "" {
				owner = u
			}
			continue
		}
		if len(out) < leavers && len(membershipsOf(emu, u.ID)) > 0 && keysOf(emu, u.ID) > 0 {
			out = append(out, u)
		}
	}
	if len(out) < leavers || owner.ID == "" {
		t.Fatalf("the seeded organization lacks %d readers with keys, or an owner", leavers)
	}
	return out, owner
}

// membershipsOf lists the active projects userID belongs to.
func membershipsOf(emu *adminapi.Emulator, userID string) []string {
	var out []string
	for _, p := range emu.Projects() {
		if p.Status != "active" {
			continue
		}
		if slices.ContainsFunc(emu.ProjectUsers(p.ID), func(pu adminapi.ProjectUser) bool { return pu.UserID == userID }) {
			out = append(out, p.ID)
		}
	}
	return out
}

// keysOf counts the keys userID owns in active projects they belong to.
func keysOf(emu *adminapi.Emulator, userID string) int {
	n := 0
	for _, p := range membershipsOf(emu, userID) {
		for _, k := range emu.ProjectAPIKeys(p) {
			if k.OwnerID == userID {
				n++
			}
		}
	}
	return n
}

func isUser(emu *adminapi.Emulator, email string) bool {
	return slices.ContainsFunc(emu.Users(), func(u adminapi.User) bool { return strings.EqualFold(u.Email, email) })
}

func pendingInvites(emu *adminapi.Emulator, email string) int {
	n := 0
	for _, inv := range emu.Invites() {
		if strings.EqualFold(inv.Email, email) && inv.Status == adminapi.InvitePending {
			n++
		}
	}
	return n
}

// touched lists the mutating requests whose path names id.
func touched(emu *adminapi.Emulator, id string) []string {
	var out []string
	for _, r := range emu.MutatingRequests() {
		if strings.Contains(r.Path, id) {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func sendMessage(t *testing.T, c *sqs.Client, url, body string) string {
	t.Helper()
	out, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"hris": {DataType: aws.String("String"), StringValue: aws.String("workday")}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// offboardingWorld is a deployment with offboarding live (the stack's
// default is a dry run) and a queue clock the test can move.
func offboardingWorld(t *testing.T, protected string, faults adminapi.Faults) (*deployment, *offsetClock) {
	clk := &offsetClock{}
	d := deploy(t, deployOptions{
		faults: faults,
		configure: func(c *infraconfig.Config) {
			c.Offboarding.DryRun = false
			if protected != "" {
				c.Protected.Emails = append(c.Protected.Emails, protected)
			}
		},
		stack: stack.Options{SQS: []localsqs.Option{localsqs.WithClock(clk.Now)}},
	})
	return d, clk
}

func (d *deployment) mapping(fn *lambdaFunction) *harness.EventSourceMapping {
	return &harness.EventSourceMapping{SQS: d.AWS.SQS.Client(), QueueURL: d.Res.QueueURL, QueueARN: localsqs.QueueARN(d.Res.QueueName),
		BatchSize: int32(d.Config.Offboarding.BatchSize), Function: fn.Function}
}

// drain delivers batches until the queue shows nothing visible.
func drain(t *testing.T, m *harness.EventSourceMapping, fn *lambdaFunction) []harness.Delivery {
	t.Helper()
	var out []harness.Delivery
	for range 100 {
		d, ok, err := m.Poll(t.Context(), runtimeapi.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		if d.Result.InitDuration > 0 {
			fn.d.s.recordInit(fn.name, d.Result.InitDuration)
		}
		out = append(out, d)
	}
	t.Fatal("the queue never drained")
	return nil
}

// TestOffboarding: a batch from the queue as the event source mapping
// delivers it: a leaver, an organization owner, a protected person, a
// dry run and a malformed message. Only the leaver is removed; the three
// that can never succeed are dead-lettered with their reason; the batch
// response retries nothing; a redelivery changes nothing.
func TestOffboarding(t *testing.T) {
	const protectedEmail = "break-glass@example.com"
	d, _ := offboardingWorld(t, protectedEmail, adminapi.Faults{})
	emu := d.Emulator
	leavers, owner := people(t, emu, 2)
	leaver, dryRunPerson := leavers[0], leavers[1]
	protectedID, err := emu.AddUser(adminapi.NewUser{Email: protectedEmail, Name: "Break Glass"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.AddInvite(adminapi.NewInvite{Email: strings.ToUpper(leaver.Email), Projects: []adminapi.InviteProject{}}); err != nil {
		t.Fatal(err)
	}
	wantKeys := keysOf(emu, leaver.ID)
	dryBefore := len(membershipsOf(emu, dryRunPerson.ID))

	fn := d.function("offboarding", harness.FunctionOptions{})
	m := d.mapping(fn)
	c := d.AWS.SQS.Client()
	ids := map[string]string{
		"leaver":    sendMessage(t, c, d.Res.QueueURL, fmt.Sprintf(`{"email":%q,"ticket":"HR-1001","reason":"last day"}`, strings.ToUpper(leaver.Email))),
		"owner":     sendMessage(t, c, d.Res.QueueURL, fmt.Sprintf(`{"email":%q,"ticket":"HR-1002"}`, owner.Email)),
		"protected": sendMessage(t, c, d.Res.QueueURL, fmt.Sprintf(`{"email":%q,"ticket":"HR-1003"}`, protectedEmail)),
		"dry run":   sendMessage(t, c, d.Res.QueueURL, fmt.Sprintf(`{"email":%q,"ticket":"HR-1004","dry_run":true}`, dryRunPerson.Email)),
		"malformed": sendMessage(t, c, d.Res.QueueURL, `{"email":"someone@example.com","dryrun":true}`),
	}

	deliveries := drain(t, m, fn)
	delivered := 0
	for _, dl := range deliveries {
		if dl.WholeBatchFailed || len(dl.Response.BatchItemFailures) != 0 {
			t.Errorf("batch of %d: whole batch failed=%v (%s), item failures %v", len(dl.Event.Records), dl.WholeBatchFailed, dl.Why, dl.Response.BatchItemFailures)
		}
		if !strings.Contains(string(dl.Result.Payload), `"batchItemFailures":[]`) {
			t.Errorf("response %s: want an explicit empty batchItemFailures list", dl.Result.Payload)
		}
		delivered += len(dl.Event.Records)
	}
	if delivered != 5 || len(d.AWS.SQS.Messages(d.Res.QueueName)) != 0 {
		t.Fatalf("%d messages delivered in %d batches; %d left in the queue", delivered, len(deliveries), len(d.AWS.SQS.Messages(d.Res.QueueName)))
	}

	// The leaver is gone: memberships, keys, the pending invite, the user.
	if isUser(emu, leaver.Email) || len(membershipsOf(emu, leaver.ID)) > 0 || pendingInvites(emu, leaver.Email) > 0 {
		t.Errorf("%s still a user=%v, in %d projects, %d pending invites", leaver.Email, isUser(emu, leaver.Email), len(membershipsOf(emu, leaver.ID)), pendingInvites(emu, leaver.Email))
	}
	for _, p := range emu.Projects() {
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			if k.OwnerID == leaver.ID && k.OwnerProjectAccess == "active" {
				t.Errorf("key %s of %s survives in %s", k.ID, leaver.Email, p.ID)
			}
		}
	}
	// Nobody else was touched: not the owner, not the protected person, not
	// the dry run's.
	for who, id := range map[string]string{"owner": owner.ID, "protected": protectedID, "dry run": dryRunPerson.ID} {
		if reqs := touched(emu, id); len(reqs) > 0 {
			t.Errorf("%s (%s) reached by %v", who, id, reqs)
		}
	}
	if !isUser(emu, owner.Email) || !isUser(emu, protectedEmail) || len(membershipsOf(emu, dryRunPerson.ID)) != dryBefore {
		t.Error("the owner, the protected person or the dry run's person lost something")
	}

	// Exactly the three hopeless messages are in the dead-letter queue,
	// each with its reason.
	dead := d.AWS.SQS.Messages(d.Res.DLQName)
	kinds := map[string]string{}
	for _, msg := range dead {
		src := msg.Attributes["orgwarden-source-message-id"].StringValue
		kind := msg.Attributes["orgwarden-error-kind"].StringValue
		reason := msg.Attributes["orgwarden-error-reason"].StringValue
		if src == "" || kind == "" || reason == "" {
			t.Errorf("dead-lettered message without orgwarden's attributes: %+v", msg.Attributes)
			continue
		}
		kinds[src] = kind
		if msg.Attributes["hris"].StringValue != "workday" {
			t.Error("the dead-lettered message lost its own attributes")
		}
	}
	want := map[string]string{ids["owner"]: "refused", ids["protected"]: "refused", ids["malformed"]: "bad_input"}
	if len(dead) != 3 || fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("dead-letter queue holds %d messages, kinds by source %v; want %v", len(dead), kinds, want)
	}

	// The journal records the offboarding.
	if n := countObjects(t, d, d.Res.JournalBucket, d.Config.Offboarding.JournalPrefix); n == 0 {
		t.Error("no journal under the journal prefix")
	}

	// SQS delivers the leaver's request again: nothing left to do.
	before := len(emu.MutatingRequests())
	sendMessage(t, c, d.Res.QueueURL, fmt.Sprintf(`{"email":%q,"ticket":"HR-1001","reason":"last day"}`, leaver.Email))
	again := drain(t, m, fn)
	if len(again) != 1 || len(again[0].Response.BatchItemFailures) != 0 || len(emu.MutatingRequests()) != before {
		t.Errorf("redelivery: %d batches, %d changes sent", len(again), len(emu.MutatingRequests())-before)
	}

	if n := busSummaries(d, "offboarding"); n != 6 {
		t.Errorf("%d summaries on the bus for 6 messages", n)
	}
	_ = fn.Close()
	outcomes := map[string]int{}
	for _, s := range fn.summaries() {
		outcomes[fmt.Sprint(s["outcome"])]++
	}
	if outcomes["offboarded"] != 1 || outcomes["already_offboarded"] != 1 || outcomes["dry_run"] != 1 {
		t.Errorf("summary outcomes %v", outcomes)
	}
	got := fn.assertMetrics("MessagesProcessed", "PeopleOffboarded", "KeysRevoked", "Failures")
	if got["MessagesProcessed"] != 6 || got["PeopleOffboarded"] != 1 || got["KeysRevoked"] != float64(wantKeys) || got["Failures"] != 3 {
		t.Errorf("metrics %v; want 6 messages, 1 person, %d keys, 3 failures", got, wantKeys)
	}
}

// TestOffboardingRetriesTransientFailures: a 503 the client may not retry
// (ORGWARDEN_MAX_RETRIES=0) leaves the message as a batch item failure;
// after the visibility timeout SQS delivers it again and it completes.
func TestOffboardingRetriesTransientFailures(t *testing.T) {
	d, clk := offboardingWorld(t, "", adminapi.Faults{})
	emu := d.Emulator
	leavers, _ := people(t, emu, 1)
	leaver := leavers[0]
	fn := d.function("offboarding", harness.FunctionOptions{Env: map[string]string{"ORGWARDEN_MAX_RETRIES": "0"}})
	m := d.mapping(fn)
	emu.InjectFault(adminapi.Rule{Method: http.MethodDelete, PathPattern: "/organization/users/*", Status: http.StatusServiceUnavailable})

	id := sendMessage(t, d.AWS.SQS.Client(), d.Res.QueueURL, fmt.Sprintf(`{"email":%q,"ticket":"HR-2001"}`, leaver.Email))
	first := drain(t, m, fn)
	if len(first) != 1 || len(first[0].Response.BatchItemFailures) != 1 || first[0].Response.BatchItemFailures[0].ItemIdentifier != id {
		t.Fatalf("first delivery: %+v", first)
	}
	if !isUser(emu, leaver.Email) {
		t.Fatal("the user was removed although the removal failed")
	}
	if msgs := d.AWS.SQS.Messages(d.Res.QueueName); len(msgs) != 1 || msgs[0].State != "inflight" {
		t.Fatalf("the failed message is not waiting out its visibility timeout: %+v", msgs)
	}

	clk.Advance(31 * time.Minute)
	second := drain(t, m, fn)
	if len(second) != 1 || len(second[0].Response.BatchItemFailures) != 0 {
		t.Fatalf("second delivery: %+v", second)
	}
	if rc := second[0].Event.Records[0].Attributes["ApproximateReceiveCount"]; rc != "2" {
		t.Errorf("ApproximateReceiveCount %q on redelivery", rc)
	}
	if isUser(emu, leaver.Email) || len(membershipsOf(emu, leaver.ID)) > 0 {
		t.Error("the redelivered request did not finish the offboarding")
	}
	if n := len(d.AWS.SQS.Messages(d.Res.QueueName)) + len(d.AWS.SQS.Messages(d.Res.DLQName)); n != 0 {
		t.Errorf("%d messages left in the queue and its DLQ", n)
	}
}

func countObjects(t *testing.T, d *deployment, bucket, prefix string) int {
	t.Helper()
	out, err := d.AWS.S3.Client().ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents)
}
