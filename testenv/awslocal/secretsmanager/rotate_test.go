package secretsmanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	smlocal "github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager/secretsmanagertest"
)

const rotationFn = "arn:aws:lambda:us-east-1:000000000000:function:keyrotation"

// rotator is a rotation function written the way the AWS templates are: it
// talks to Secrets Manager only through the SDK client.
type rotator struct {
	client *awssm.Client
	failAt string // step that fails (once, when failOnce is set)

	mu       sync.Mutex
	failOnce bool
	events   []smlocal.RotationEvent
}

func (r *rotator) invoke(ctx context.Context, fn string, ev smlocal.RotationEvent) error {
	if fn != rotationFn {
		return fmt.Errorf("invoked %s, want %s", fn, rotationFn)
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	fail := ev.Step == r.failAt && r.failOnce
	if fail {
		r.failOnce = false
	}
	r.mu.Unlock()
	if fail {
		return errors.New("downstream refused the new key")
	}
	switch ev.Step {
	case smlocal.StepCreate:
		// Idempotent: a resumed rotation finds its pending version.
		if _, err := r.client.GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String("AWSPENDING")}); err == nil {
			return nil
		}
		_, err := r.client.PutSecretValue(ctx, &awssm.PutSecretValueInput{
			SecretId: aws.String(ev.SecretID), ClientRequestToken: aws.String(ev.ClientRequestToken),
			SecretString: aws.String("rotated-" + ev.ClientRequestToken[:8]), VersionStages: []string{"AWSPENDING"},
		})
		return err
	case smlocal.StepSet, smlocal.StepTest:
		_, err := r.client.GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String("AWSPENDING")})
		return err
	case smlocal.StepFinish:
		d, err := r.client.DescribeSecret(ctx, &awssm.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
		if err != nil {
			return err
		}
		current := ""
		for id, labels := range d.VersionIdsToStages {
			if slices.Contains(labels, "AWSCURRENT") {
				current = id
			}
		}
		if current == ev.ClientRequestToken {
			return nil
		}
		_, err = r.client.UpdateSecretVersionStage(ctx, &awssm.UpdateSecretVersionStageInput{
			SecretId: aws.String(ev.SecretID), VersionStage: aws.String("AWSCURRENT"),
			MoveToVersionId: aws.String(ev.ClientRequestToken), RemoveFromVersionId: aws.String(current),
		})
		return err
	}
	return fmt.Errorf("unknown step %q", ev.Step)
}

func (r *rotator) steps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Step)
	}
	return out
}

func newRotation(t *testing.T, failAt string) (*smlocal.Server, *awssm.Client, *rotator, string) {
	t.Helper()
	srv := secretsmanagertest.New(t)
	c := srv.Client()
	r := &rotator{client: c, failAt: failAt, failOnce: failAt != ""}
	srv.SetRotationInvoker(r.invoke)
	arn := aws.ToString(create(t, c, "orgwarden/admin-key", "original", tok1).ARN)
	return srv, c, r, arn
}

var allSteps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

func TestRotateSecret(t *testing.T) {
	srv, c, r, arn := newRotation(t, "")
	out, err := c.RotateSecret(t.Context(), &awssm.RotateSecretInput{
		SecretId:          aws.String("orgwarden/admin-key"),
		RotationLambdaARN: aws.String(rotationFn),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
	})
	if err != nil {
		t.Fatal(err)
	}
	token := aws.ToString(out.VersionId)
	if len(token) < 32 || aws.ToString(out.ARN) != arn {
		t.Fatalf("RotateSecret answered version %q arn %q", token, aws.ToString(out.ARN))
	}
	if !slices.Equal(r.steps(), allSteps) {
		t.Errorf("steps %v", r.steps())
	}
	for _, ev := range r.events {
		if ev.SecretID != arn || ev.ClientRequestToken != token || ev.RotationToken == "" {
			t.Errorf("event %+v: want SecretId %s, token %s and a rotation token", ev, arn, token)
		}
	}
	want := map[string][]string{tok1: {"AWSPREVIOUS"}, token: {"AWSCURRENT", "AWSPENDING"}}
	if got := stages(t, c, arn); !equalStages(got, want) {
		t.Errorf("stages %v, want %v", got, want)
	}
	d, err := c.DescribeSecret(t.Context(), &awssm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != rotationFn || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 {
		t.Errorf("rotation config: enabled %v fn %s rules %+v", aws.ToBool(d.RotationEnabled), aws.ToString(d.RotationLambdaARN), d.RotationRules)
	}
	if d.LastRotatedDate == nil || d.NextRotationDate == nil || d.NextRotationDate.Sub(*d.LastRotatedDate).Hours() != 30*24 {
		t.Errorf("LastRotatedDate %v NextRotationDate %v", d.LastRotatedDate, d.NextRotationDate)
	}
	if got := srv.Rotations(); len(got) != 1 || got[0].Err != nil || got[0].Token != token {
		t.Errorf("rotations %+v", got)
	}

	// A second rotation reuses the stored function and moves AWSPENDING on.
	out2, err := c.RotateSecret(t.Context(), &awssm.RotateSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	token2 := aws.ToString(out2.VersionId)
	want = map[string][]string{token: {"AWSPREVIOUS"}, token2: {"AWSCURRENT", "AWSPENDING"}}
	if got := stages(t, c, arn); !equalStages(got, want) {
		t.Errorf("after the second rotation: stages %v, want %v", got, want)
	}
}

func equalStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := slices.Clone(b[k])
		slices.Sort(w)
		if !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestRotationFailureAndResume: a failed step leaves the pending version and
// the current value alone; a later RotateSecret finishes that same version.
func TestRotationFailureAndResume(t *testing.T) {
	tests := []struct {
		name string
		// resumeToken picks the ClientRequestToken of the second call.
		resumeToken func(pending string) *string
		wantCode    string
	}{
		{"resume with the pending token", func(p string) *string { return aws.String(p) }, ""},
		{"new token: refused, and the pending rotation reattempted", func(string) *string { return aws.String(tok4) }, "InvalidRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, r, arn := newRotation(t, smlocal.StepSet)
			out, err := c.RotateSecret(t.Context(), &awssm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotationFn)})
			if err != nil {
				t.Fatalf("RotateSecret answers before the rotation can fail: %v", err)
			}
			pending := aws.ToString(out.VersionId)
			if !slices.Equal(r.steps(), allSteps[:2]) {
				t.Errorf("steps %v, want the rotation to stop at setSecret", r.steps())
			}
			rot := srv.Rotations()
			if len(rot) != 1 || rot[0].Err == nil || !strings.Contains(rot[0].Err.Error(), "setSecret") {
				t.Fatalf("rotations %+v: want one failure at setSecret", rot)
			}
			if got, want := stages(t, c, arn), map[string][]string{tok1: {"AWSCURRENT"}, pending: {"AWSPENDING"}}; !equalStages(got, want) {
				t.Errorf("after the failure: stages %v, want %v", got, want)
			}
			if v := value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String(arn)}); aws.ToString(v.SecretString) != "original" {
				t.Errorf("current value changed by a failed rotation")
			}

			_, err = c.RotateSecret(t.Context(), &awssm.RotateSecretInput{SecretId: aws.String(arn), ClientRequestToken: tt.resumeToken(pending)})
			if code := errorCode(err); code != tt.wantCode {
				t.Fatalf("second RotateSecret: code %q (%v), want %q", code, err, tt.wantCode)
			}
			rot = srv.Rotations()
			if len(rot) != 2 || rot[1].Err != nil || !rot[1].Resumed || rot[1].Token != pending {
				t.Fatalf("second attempt %+v: want a successful resume of %s", rot[len(rot)-1], pending)
			}
			if got, want := stages(t, c, arn), map[string][]string{tok1: {"AWSPREVIOUS"}, pending: {"AWSCURRENT", "AWSPENDING"}}; !equalStages(got, want) {
				t.Errorf("after the resume: stages %v, want %v", got, want)
			}
		})
	}
}

func TestRotateSecretErrors(t *testing.T) {
	tests := []struct {
		name     string
		invoker  bool
		in       awssm.RotateSecretInput
		wantCode string
	}{
		{"no function configured", true, awssm.RotateSecretInput{}, "InvalidRequestException"},
		{"no invoker in the emulator", false, awssm.RotateSecretInput{RotationLambdaARN: aws.String(rotationFn)}, "InvalidRequestException"},
		{"schedule too long", true, awssm.RotateSecretInput{RotationLambdaARN: aws.String(rotationFn), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1001)}}, "InvalidParameterException"},
		{"unknown secret", true, awssm.RotateSecretInput{SecretId: aws.String("nope"), RotationLambdaARN: aws.String(rotationFn)}, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := secretsmanagertest.New(t)
			c := srv.Client()
			create(t, c, "s", "v", tok1)
			invoked := false
			if tt.invoker {
				srv.SetRotationInvoker(func(context.Context, string, smlocal.RotationEvent) error { invoked = true; return nil })
			}
			in := tt.in
			if in.SecretId == nil {
				in.SecretId = aws.String("s")
			}
			_, err := c.RotateSecret(t.Context(), &in)
			if code := errorCode(err); code != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tt.wantCode)
			}
			if invoked {
				t.Error("a refused RotateSecret invoked the function")
			}
		})
	}
}

func TestRotateImmediatelyFalseOnlySchedules(t *testing.T) {
	srv, c, r, arn := newRotation(t, "")
	out, err := c.RotateSecret(t.Context(), &awssm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotationFn), RotateImmediately: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if out.VersionId != nil || len(r.steps()) != 0 || len(srv.Rotations()) != 0 {
		t.Errorf("version %v steps %v: want no rotation", out.VersionId, r.steps())
	}
	d, err := c.DescribeSecret(t.Context(), &awssm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil || !aws.ToBool(d.RotationEnabled) {
		t.Errorf("rotation not enabled: %v", err)
	}
}

// rawCall posts to the endpoint without the SDK, as a hand-written client
// would.
func rawCall(t *testing.T, url, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response is not JSON: %q", b)
	}
	return resp.StatusCode, resp.Header, out
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestWireProtocol(t *testing.T) {
	srv := secretsmanagertest.New(t)
	var got []smlocal.RotationEvent
	srv.SetRotationInvoker(func(_ context.Context, _ string, ev smlocal.RotationEvent) error { got = append(got, ev); return nil })

	tests := []struct {
		name       string
		target     string
		body       string
		wantStatus int
		check      func(t *testing.T, out map[string]any)
	}{
		{"create without a token", "secretsmanager.CreateSecret", `{"Name":"raw","SecretString":"v"}`, 200, func(t *testing.T, out map[string]any) {
			if id, _ := out["VersionId"].(string); !uuidPattern.MatchString(id) {
				t.Errorf("VersionId %v: want a generated UUID", out["VersionId"])
			}
		}},
		{"timestamps are epoch seconds", "secretsmanager.DescribeSecret", `{"SecretId":"raw"}`, 200, func(t *testing.T, out map[string]any) {
			if _, ok := out["CreatedDate"].(float64); !ok {
				t.Errorf("CreatedDate %#v: want a JSON number", out["CreatedDate"])
			}
		}},
		{"rotate without a token", "secretsmanager.RotateSecret", `{"SecretId":"raw","RotationLambdaARN":"` + rotationFn + `"}`, 200, func(t *testing.T, out map[string]any) {
			id, _ := out["VersionId"].(string)
			if !uuidPattern.MatchString(id) || len(got) != 4 || got[0].ClientRequestToken != id {
				t.Errorf("VersionId %q, events %+v: want a generated token passed to every step", id, got)
			}
		}},
		{"error shape", "secretsmanager.GetSecretValue", `{"SecretId":"missing"}`, 400, func(t *testing.T, out map[string]any) {
			if out["__type"] != "ResourceNotFoundException" || out["message"] == "" {
				t.Errorf("error body %v", out)
			}
		}},
		{"unknown operation", "secretsmanager.GetRandomPassword", `{}`, 400, func(t *testing.T, out map[string]any) {
			if out["__type"] != "UnknownOperationException" {
				t.Errorf("error body %v", out)
			}
		}},
		{"other service's target", "AmazonSQS.ListQueues", `{}`, 400, nil},
		{"malformed body", "secretsmanager.DescribeSecret", `{"SecretId":`, 400, func(t *testing.T, out map[string]any) {
			if out["__type"] != "SerializationException" {
				t.Errorf("error body %v", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, hdr, out := rawCall(t, srv.URL, tt.target, tt.body)
			if st != tt.wantStatus {
				t.Fatalf("status %d, want %d (%v)", st, tt.wantStatus, out)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			if hdr.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func TestRequestLogMasksSecretValues(t *testing.T) {
	srv := secretsmanagertest.New(t)
	c := srv.Client()
	const key = "sk-admin-THIS-MUST-NOT-BE-LOGGED"
	create(t, c, "s", `{"api_key":"`+key+`"}`, tok1)
	putValue(t, c, "s", key, tok2)
	value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("s")})

	reqs := srv.Requests()
	if len(reqs) != 3 || srv.Count("PutSecretValue") != 1 {
		t.Fatalf("request log %+v", reqs)
	}
	for _, r := range reqs {
		if bytes.Contains(r.Input, []byte("sk-admin")) {
			t.Errorf("%s logged key material", r.Operation)
		}
	}
	if !bytes.Contains(reqs[1].Input, []byte(`"SecretString":"[REDACTED]"`)) || !bytes.Contains(reqs[1].Input, []byte(tok2)) {
		t.Errorf("PutSecretValue logged as %s: want the value masked and the token kept", reqs[1].Input)
	}
}
