package stack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/stack"
)

// physicalNames are the properties that name a resource account- and
// region-wide (a schedule's or table's name is scoped by its group or
// database, which is listed).
var physicalNames = map[string][]string{
	"AWS::Lambda::Function":         {"FunctionName"},
	"AWS::Logs::LogGroup":           {"LogGroupName"},
	"AWS::SQS::Queue":               {"QueueName"},
	"AWS::SNS::Topic":               {"TopicName"},
	"AWS::SecretsManager::Secret":   {"Name"},
	"AWS::Scheduler::ScheduleGroup": {"Name"},
	"AWS::Events::EventBus":         {"Name"},
	"AWS::Events::Rule":             {"Name"},
	"AWS::KMS::Alias":               {"AliasName"},
	"AWS::Glue::Database":           {"DatabaseInput.Name"},
	"AWS::CloudWatch::Alarm":        {"AlarmName"},
}

func property(props map[string]any, path string) any {
	var v any = props
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

type template struct {
	Resources map[string]resource `json:"Resources"`
}

// deployedLength is the longest string CloudFormation can substitute for a
// template value: literal text as is, Ref and GetAtt by the worst case of
// what they resolve to, joins summed.
func deployedLength(t *testing.T, tpl template, v any) int {
	t.Helper()
	switch x := v.(type) {
	case string:
		return len(x)
	case map[string]any:
		if id, ok := x["Ref"].(string); ok {
			r := tpl.Resources[id]
			switch r.Type {
			case "AWS::SecretsManager::Secret":
				return len("arn:aws-us-gov:secretsmanager:" + strings.Repeat("r", 20) + ":123456789012:secret:" + r.Properties["Name"].(string) + "-AbCdEf")
			case "AWS::S3::Bucket":
				return 63
			case "AWS::Events::EventBus":
				return len(r.Properties["Name"].(string))
			case "AWS::SQS::Queue":
				return len("https://sqs." + strings.Repeat("r", 20) + ".amazonaws.com.cn/123456789012/" + r.Properties["QueueName"].(string))
			}
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && tpl.Resources[att[0].(string)].Type == "AWS::KMS::Key" {
			return len("arn:aws-us-gov:kms:" + strings.Repeat("r", 20) + ":123456789012:key/" + strings.Repeat("k", 36))
		}
		if join, ok := x["Fn::Join"].([]any); ok {
			n := 0
			for _, part := range join[1].([]any) {
				n += deployedLength(t, tpl, part)
			}
			return n
		}
	}
	t.Fatalf("cannot size %s", canonical(v))
	return 0
}

// TestTwoStacksSideBySide: one stack per OpenAI organization in one account
// and region. Acme manages 30 service-account secrets; Beta is a trial
// (evidence lock OFF) with no offboarding sender configured.
func TestTwoStacksSideBySide(t *testing.T) {
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	if err := os.Mkdir(build, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := placeholderZips(build); err != nil {
		t.Fatal(err)
	}
	acme := testConfig(build)
	acme.StackName, acme.OrgID = "Orgwarden-Acme", "org-acme"
	acme.ServiceAccountKeys = nil
	for i := range 30 {
		acme.ServiceAccountKeys = append(acme.ServiceAccountKeys, config.ServiceAccountKey{
			ID: fmt.Sprintf("service-account-%02d", i), ProjectID: "proj_acme", ServiceAccountID: fmt.Sprintf("svc_acct_%02d", i), ServiceAccountName: "app",
		})
	}
	beta := config.Default()
	beta.StackName, beta.OrgID, beta.ArtifactDir = "Orgwarden-Beta", "org-beta", build
	beta.AuditExport.ObjectLock.Mode = config.ObjectLockOff

	out := filepath.Join(dir, "cdk.out")
	app := stack.NewApp(out)
	stacks := map[string]awscdk.Stack{}
	for _, c := range []config.Config{acme, beta} {
		s, err := stack.New(app, c)
		if err != nil {
			t.Fatal(err)
		}
		stacks[c.StackName] = s
	}
	app.Synth(nil)

	templates := map[string]template{}
	owner := map[string]string{}
	for name, s := range stacks {
		raw, err := os.ReadFile(filepath.Join(out, *s.ArtifactId()+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		var tpl template
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatal(err)
		}
		templates[name] = tpl
		for id, r := range tpl.Resources {
			for _, p := range physicalNames[r.Type] {
				v, ok := property(r.Properties, p).(string)
				if !ok {
					continue
				}
				key := r.Type + " " + v
				if other, dup := owner[key]; dup && other != name {
					t.Errorf("%s %q is named by both %s and %s (%s)", r.Type, v, other, name, id)
				}
				owner[key] = name
			}
		}
		md, err := readMetadata(out, *s.ArtifactId())
		if err != nil {
			t.Fatal(err)
		}
		for path, entries := range md {
			for _, e := range entries {
				if e.Type == "aws:cdk:error" {
					t.Errorf("%s: %v", path, e.Data)
				}
			}
		}
	}
	for _, db := range []string{"orgwarden_acme", "orgwarden_beta"} {
		if _, ok := owner["AWS::Glue::Database "+db]; !ok {
			t.Errorf("no Glue database %s: %v", db, owner)
		}
	}

	// 30 service-account secrets: the environment fits as deployed.
	for _, fn := range fnenv.Functions {
		tpl := templates["Orgwarden-Acme"]
		for _, r := range tpl.Resources {
			if r.Type != "AWS::Lambda::Function" || r.Properties["FunctionName"] != acme.FunctionName(fn) {
				continue
			}
			size := 0
			for k, v := range property(r.Properties, "Environment.Variables").(map[string]any) {
				size += len(k) + deployedLength(t, tpl, v)
			}
			if size > 4096 {
				t.Errorf("%s environment is up to %d bytes deployed, over 4096", fn, size)
			}
			if want, _ := fnenv.DeployedSize(fn, acme); size > want {
				t.Errorf("%s: template sizes to %d, fnenv's estimate is %d", fn, size, want)
			}
		}
	}

	// The trial stack can be deleted with everything in it.
	if *stacks["Orgwarden-Beta"].TerminationProtection() || !*stacks["Orgwarden-Acme"].TerminationProtection() {
		t.Error("termination protection: want it on the production stack only")
	}
	for id, r := range templates["Orgwarden-Beta"].Resources {
		switch r.Type {
		case "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup":
			if r.DeletionPolicy != "Delete" {
				t.Errorf("trial %s %s deletion policy %q", r.Type, id, r.DeletionPolicy)
			}
		}
		if r.Type == "AWS::S3::Bucket" && r.Properties["ObjectLockEnabled"] == true {
			t.Errorf("trial bucket %s has Object Lock", id)
		}
		if r.Type == "AWS::KMS::Key" && contains(canonical(r.Properties), "NoEvidenceShredding") {
			t.Errorf("trial key %s cannot be deleted", id)
		}
		// No sender configured: the queue denies every SendMessage.
		if r.Type == "AWS::SQS::QueuePolicy" && contains(canonical(r.Properties), "OnlyConfiguredSendersOffboard") &&
			!contains(canonical(r.Properties), `{"Action":"sqs:SendMessage","Effect":"Deny","Principal":{"AWS":"*"}`) {
			t.Errorf("trial queue policy does not deny every sender: %s", canonical(r.Properties))
		}
	}
}
