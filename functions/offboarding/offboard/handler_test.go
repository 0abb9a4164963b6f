package offboard

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/awslocal"
	localsqs "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs/sqstest"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

const dlqName = "orgwarden-offboarding-dlq"

type stack struct {
	*org
	sqs    *localsqs.Server
	dlqURL string
	env    map[string]string
}

// newStack puts the handler's AWS side next to the organization: the
// journal bucket and a dead-letter queue, reached through the env the
// Lambda function gets.
func newStack(t *testing.T, o *org) *stack {
	t.Helper()
	s := &stack{org: o, sqs: sqstest.New(t)}
	var err error
	s.dlqURL, err = s.sqs.CreateQueue(context.Background(), dlqName, nil)
	must(t, err)
	s.env = map[string]string{
		"OPENAI_BASE_URL":          o.srv.URL,
		"OPENAI_ADMIN_KEY":         o.srv.AdminKey,
		"ORGWARDEN_DLQ_URL":        s.dlqURL,
		"ORGWARDEN_JOURNAL_BUCKET": journalBucket,
		"ORGWARDEN_MAX_RETRIES":    "1",
		"ORGWARDEN_RATE_LIMIT":     "0",
		"AWS_ENDPOINT_URL_S3":      o.s3.URL,
		"AWS_ENDPOINT_URL_SQS":     s.sqs.URL,
		"AWS_REGION":               awslocal.Region,
		"AWS_ACCESS_KEY_ID":        awslocal.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":    awslocal.SecretAccessKey,
	}
	return s
}

// invoke runs the handler the way Lambda does: a JSON SQS event through
// aws-lambda-go's handler adapter.
func (s *stack) invoke(t *testing.T, env map[string]string, records ...events.SQSMessage) events.SQSEventResponse {
	t.Helper()
	merged := map[string]string{}
	for k, v := range s.env {
		merged[k] = v
	}
	for k, v := range env {
		merged[k] = v
	}
	h, err := FromEnv(context.Background(), config.MapEnv(merged), app.Options{Out: s.logs})
	must(t, err)
	payload, err := json.Marshal(events.SQSEvent{Records: records})
	must(t, err)
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("handler failed the whole batch: %v", err)
	}
	var resp events.SQSEventResponse
	must(t, json.Unmarshal(out, &resp))
	return resp
}

func sqsMessage(id, body string, receiveCount int) events.SQSMessage {
	sum := md5.Sum([]byte(body))
	hris := "workday"
	return events.SQSMessage{
		MessageId:     id,
		ReceiptHandle: "AQEB" + id,
		Body:          body,
		Md5OfBody:     hex.EncodeToString(sum[:]),
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(receiveCount),
			"SentTimestamp":                    "1795428000000",
			"SenderId":                         "AIDAIENQZJOLO23YVJ4VO",
			"ApproximateFirstReceiveTimestamp": "1795428000100",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{"source": {StringValue: &hris, DataType: "String"}},
		EventSource:       "aws:sqs",
		EventSourceARN:    "arn:aws:sqs:us-east-1:000000000000:orgwarden-offboarding",
		AWSRegion:         "us-east-1",
	}
}

func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

// summaries returns the summary log lines, by message id.
func summaries(t *testing.T, logs string) map[string]Summary {
	t.Helper()
	out := map[string]Summary{}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var line struct {
			Msg     string  `json:"msg"`
			Message string  `json:"message"`
			Summary Summary `json:"summary"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || (line.Msg != "summary" && line.Message != "summary") {
			continue
		}
		if _, dup := out[line.Summary.MessageID]; dup {
			t.Errorf("two summary lines for message %s", line.Summary.MessageID)
		}
		out[line.Summary.MessageID] = line.Summary
	}
	return out
}

// metricsOf sums the EMF records in logs by metric name and Kind.
func metricsOf(logs string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["_aws"] == nil {
			continue
		}
		kind, _ := rec["Kind"].(string)
		for _, name := range []string{MetricMessagesProcessed, MetricPeopleOffboarded, MetricKeysRevoked, MetricFailures} {
			if v, ok := rec[name].(float64); ok {
				key := name
				if kind != "" {
					key += "/" + kind
				}
				out[key] += v
			}
		}
	}
	return out
}

func TestHandleMixedBatch(t *testing.T) {
	o := newOrg(t, 4, 2)
	s := newStack(t, o)
	// Carol only has a pending invite; Dave's removal keeps being rate limited.
	_, err := o.emu.AddInvite(adminapi.NewInvite{Email: "carol@example.com"})
	must(t, err)
	dave := o.addPerson("dave@example.com", 1, 0, false)
	o.emu.InjectFault(adminapi.Rule{Method: http.MethodDelete, PathPattern: "/organization/users/" + dave.id,
		Status: http.StatusTooManyRequests, RetryAfter: 5 * time.Millisecond, Count: 1000})

	okta := strings.Replace(oktaEvent, "frank@example.com", "carol@example.com", 1)
	sns, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "sns-1",
		"TopicArn": "arn:aws:sns:us-east-1:000000000000:hr", "Message": okta})
	records := []events.SQSMessage{
		sqsMessage("m-jane", `{"email":"jane.leaver@example.com","ticket":"HR-1","reason":"resigned"}`, 1),
		sqsMessage("m-garbage", `{"email": "jane.leaver@example.com"`, 1),
		sqsMessage("m-bob-eventbridge", `{"version":"0","id":"e-1","detail-type":"Offboarding Requested","source":"com.example.workday","detail":{"email":"bob.stays@example.com"}}`, 1),
		sqsMessage("m-carol-okta-sns", string(sns), 1),
		sqsMessage("m-typo", `{"email":"bob.stays@example.com","dryrun":true}`, 1),
		sqsMessage("m-protected", `{"email":"ceo@board.example.org"}`, 1),
		sqsMessage("m-dave", `{"email":"dave@example.com"}`, 1),
		sqsMessage("m-jane-duplicate", `{"email":"jane.leaver@example.com","ticket":"HR-1","reason":"resigned"}`, 1),
	}
	resp := s.invoke(t, map[string]string{"ORGWARDEN_PROTECTED_DOMAINS": "board.example.org"}, records...)

	if got, want := failedIDs(resp), []string{"m-dave"}; !slices.Equal(got, want) {
		t.Fatalf("batch item failures %v, want %v", got, want)
	}
	for _, p := range []person{o.person, o.bystander} {
		if m, k, i, u := o.remaining(p); m+k+i > 0 || u {
			t.Errorf("%s left behind: %d memberships, %d keys, %d invites, user %v", p.email, m, k, i, u)
		}
	}
	if _, _, i, _ := o.remaining(person{email: "carol@example.com"}); i != 0 {
		t.Errorf("carol's invite survived")
	}
	if _, _, _, u := o.remaining(dave); !u {
		t.Errorf("dave is gone although his removal kept failing")
	}

	// The dead-letter queue holds exactly the messages that can never succeed.
	dead := map[string]localsqs.Message{}
	for _, m := range s.sqs.Messages(dlqName) {
		dead[m.Attributes[AttrSourceMessageID].StringValue] = m
	}
	wantDead := map[string]FailureKind{"m-garbage": KindBadInput, "m-typo": KindBadInput, "m-protected": KindRefused}
	if len(dead) != len(wantDead) {
		t.Errorf("dead-letter queue has %d messages, want %d", len(dead), len(wantDead))
	}
	for id, kind := range wantDead {
		m, ok := dead[id]
		if !ok {
			t.Errorf("%s not dead-lettered", id)
			continue
		}
		if m.Attributes[AttrErrorKind].StringValue != string(kind) || m.Attributes[AttrErrorReason].StringValue == "" {
			t.Errorf("%s attributes %+v", id, m.Attributes)
		}
		if m.Attributes["source"].StringValue != "workday" {
			t.Errorf("%s lost its own attributes", id)
		}
		for _, r := range records {
			if r.MessageId == id && m.Body != r.Body {
				t.Errorf("%s body changed", id)
			}
		}
	}
	if r := dead["m-typo"].Attributes[AttrErrorReason].StringValue; !strings.Contains(r, `unknown field "dryrun"`) {
		t.Errorf("typo reason %q", r)
	}

	sums := summaries(t, o.logs.String())
	if len(sums) != len(records) {
		t.Errorf("%d summary lines, want one per message (%d)", len(sums), len(records))
	}
	wantOutcome := map[string]Outcome{
		"m-jane": Offboarded, "m-jane-duplicate": AlreadyOffboarded, "m-bob-eventbridge": Offboarded,
		"m-carol-okta-sns": Offboarded, "m-garbage": BadInput, "m-typo": BadInput,
		"m-protected": Refused, "m-dave": Incomplete,
	}
	for id, want := range wantOutcome {
		if got := sums[id].Outcome; got != want {
			t.Errorf("%s: summary outcome %q, want %q (%+v)", id, got, want, sums[id])
		}
	}
	if sums["m-jane-duplicate"].Earlier == nil || sums["m-jane-duplicate"].Earlier.Projects != 4 {
		t.Errorf("the duplicate should report what was already done: %+v", sums["m-jane-duplicate"].Earlier)
	}
	if sums["m-dave"].FailureKind != KindTransient || !sums["m-dave"].Retry {
		t.Errorf("dave: %+v", sums["m-dave"])
	}
	if sa := sums["m-jane"].ServiceAccountsForReview; len(sa) != 1 || sa[0].Name != "ci-bot" {
		t.Errorf("jane's summary should list the service account of her project: %+v", sa)
	}
	if sums["m-jane"].Journal == "" {
		t.Errorf("jane's summary lacks the journal location")
	}

	m := metricsOf(o.logs.String())
	want := map[string]float64{
		MetricMessagesProcessed: 8, MetricPeopleOffboarded: 3, MetricKeysRevoked: 4 + 4, // Jane's and Bob's
		MetricFailures: 4, MetricFailures + "/" + string(KindBadInput): 2, MetricFailures + "/" + string(KindRefused): 1,
		MetricFailures + "/" + string(KindTransient): 1,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("metric %s = %v, want %v (all %v)", k, m[k], v, m)
		}
	}
	o.assertNoSecretsLogged(t)

	// SQS redelivers dave's message after the fault clears: it completes.
	o.emu.ClearFaults()
	resp = s.invoke(t, nil, sqsMessage("m-dave", `{"email":"dave@example.com"}`, 2))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery failed: %v", failedIDs(resp))
	}
	if _, _, _, u := o.remaining(dave); u {
		t.Errorf("dave still a member after the redelivery: %+v", summaries(t, o.logs.String())["m-dave"])
	}
}

// oktaEvent is Okta's System Log event through an EventBridge partner bus.
const oktaEvent = `{"version":"0","id":"e1","detail-type":"SystemLog","source":"aws.partner/okta.com/example/orgwarden",
"time":"2026-11-23T10:15:02Z","detail":{"uuid":"a1b2c3d4-0f0f-11ef-9c3c-2f5f6d4e7a81","published":"2026-11-23T10:15:01.234Z",
"eventType":"user.lifecycle.deactivate","displayMessage":"Deactivate Okta user","outcome":{"result":"SUCCESS"},
"actor":{"id":"00u1","type":"User","alternateId":"admin@example.com"},
"target":[{"id":"00u9","type":"User","alternateId":"frank@example.com","displayName":"Frank"}]}}`

func TestHandleDryRunSendsNoChange(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		body string
	}{
		{"configured", map[string]string{"ORGWARDEN_DRY_RUN": "true"}, `{"email":"jane.leaver@example.com"}`},
		{"per message", nil, `{"email":"jane.leaver@example.com","dry_run":true}`},
		{"message cannot undo the configuration", map[string]string{"ORGWARDEN_DRY_RUN": "true"}, `{"email":"jane.leaver@example.com","dry_run":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, 3, 1)
			s := newStack(t, o)
			o.emu.ResetRequests()
			resp := s.invoke(t, tt.env, sqsMessage("m-1", tt.body, 1))
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("failures %v", failedIDs(resp))
			}
			if muts := o.emu.MutatingRequests(); len(muts) != 0 {
				t.Fatalf("dry run sent %s %s", muts[0].Method, muts[0].Path)
			}
			sum := summaries(t, o.logs.String())["m-1"]
			if sum.Outcome != DryRun || !sum.DryRun || sum.Done == nil || sum.Done.Projects != 3 || sum.Done.APIKeys != 2 {
				t.Errorf("dry-run summary should report the plan: %+v", sum)
			}
			// Only a preview, for replay (TestDryRunRequestsAreReplayedOnceLive).
			if objs := listJournal(t, o); len(objs) > 1 || (len(objs) == 1 && !strings.HasPrefix(objs[0], journal.DefaultPrefix+journal.PreviewDir)) {
				t.Errorf("dry run wrote a journal record: %v", objs)
			}
			if m := metricsOf(o.logs.String()); m[MetricPeopleOffboarded] != 0 || m[MetricKeysRevoked] != 0 {
				t.Errorf("dry run counted as offboarding: %v", m)
			}
		})
	}
}

func TestHandleRetriesWhenTheDeadLetterQueueIsUnreachable(t *testing.T) {
	o := newOrg(t, 1, 0)
	s := newStack(t, o)
	resp := s.invoke(t, map[string]string{"ORGWARDEN_DLQ_URL": s.sqs.QueueURL("no-such-queue")},
		sqsMessage("m-bad", `not json`, 1), sqsMessage("m-good", `{"email":"jane.leaver@example.com"}`, 1))
	if got := failedIDs(resp); !slices.Equal(got, []string{"m-bad"}) {
		t.Fatalf("failures %v, want only the message that could not be dead-lettered", got)
	}
	if _, _, _, u := o.remaining(o.person); u {
		t.Errorf("the good message was not processed")
	}
}

func TestFromEnvReportsEveryProblem(t *testing.T) {
	_, err := FromEnv(context.Background(), config.MapEnv(map[string]string{
		"ORGWARDEN_JOURNAL_BUCKET": "s3://journal",
		"ORGWARDEN_DLQ_URL":        "orgwarden-dlq",
	}), app.Options{Out: &logtest.Buffer{}})
	if err == nil {
		t.Fatal("FromEnv accepted a broken environment")
	}
	for _, want := range []string{"ORGWARDEN_DLQ_URL", "ORGWARDEN_JOURNAL_BUCKET", "OPENAI_ADMIN_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestHandleRetriesAPermanentFailureUntilItCompletes(t *testing.T) {
	o := newOrg(t, 3, 3)
	s := newStack(t, o)
	broken := o.person.projects[1]
	o.emu.InjectFault(adminapi.Rule{Method: http.MethodDelete, PathPattern: "/organization/projects/" + broken + "/users/*",
		Status: http.StatusForbidden, Count: 1000})
	body := `{"email":"jane.leaver@example.com","ticket":"HR-9"}`

	resp := s.invoke(t, nil, sqsMessage("m-1", body, 1))
	if got := failedIDs(resp); !slices.Equal(got, []string{"m-1"}) {
		t.Fatalf("failures %v, want the message back for a retry", got)
	}
	sum := summaries(t, o.logs.String())["m-1"]
	if sum.FailureKind != KindPermanent || sum.DeadLettered {
		t.Errorf("summary %+v, want a permanent failure left to SQS's retries", sum)
	}
	if len(s.sqs.Messages(dlqName)) != 0 {
		t.Errorf("a mid-way failure was dead-lettered")
	}
	done := map[string]bool{}
	for _, r := range o.emu.MutatingRequests() {
		if r.Status == http.StatusOK {
			done[r.Method+" "+r.Path] = true
		}
	}

	o.emu.ClearFaults()
	o.emu.ResetRequests()
	o.logs = &logtest.Buffer{}
	resp = s.invoke(t, nil, sqsMessage("m-1", body, 2))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery failed: %v", failedIDs(resp))
	}
	for _, r := range o.emu.MutatingRequests() {
		if done[r.Method+" "+r.Path] {
			t.Errorf("the redelivery repeated %s %s", r.Method, r.Path)
		}
	}
	if m, k, i, u := o.remaining(o.person); m+k+i > 0 || u {
		t.Errorf("left behind: %d memberships, %d keys, %d invites, user %v", m, k, i, u)
	}
	if sum := summaries(t, o.logs.String())["m-1"]; sum.Outcome != Offboarded || sum.Earlier == nil || sum.Earlier.APIKeys != 6 {
		t.Errorf("redelivery summary %+v", sum)
	}
}

func TestSummaryStaysWithinLogLimits(t *testing.T) {
	rec := journal.New("offboarding/k.json", "wide@example.com", "r", time.Now())
	for i := range 400 {
		p := fmt.Sprintf("proj_%032d", i)
		rec.Membership(journal.Membership{ProjectID: p, ProjectName: "a project with a long descriptive name", Role: "member",
			Step: journal.Step{Outcome: journal.Removed}})
		rec.APIKey(journal.APIKey{ID: fmt.Sprintf("key_%020d", i), Kind: journal.ProjectKey, ProjectID: p, Name: "a key name of some length",
			Step: journal.Step{Outcome: journal.Removed}})
	}
	var s Summary
	s.fromResult(&Result{Outcome: Offboarded, Record: rec})
	b, err := json.Marshal(s)
	must(t, err)
	if len(b) > 200<<10 || s.ItemsOmitted != 200 || len(s.Items) != maxSummaryItems {
		t.Errorf("summary of %d bytes with %d items, %d omitted", len(b), len(s.Items), s.ItemsOmitted)
	}
}
