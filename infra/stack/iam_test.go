package stack_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/fnenv"
)

type statement struct {
	resource string // logical id of the resource holding the policy
	path     string
	body     map[string]any
}

// statements returns every policy statement in the template: identity policies,
// trust policies and resource policies (buckets, queues, topics, keys).
func statements() []statement {
	var out []statement
	var walk func(id, path string, v any)
	walk = func(id, path string, v any) {
		switch t := v.(type) {
		case map[string]any:
			if list, ok := t["Statement"].([]any); ok {
				for _, s := range list {
					if m, ok := s.(map[string]any); ok {
						out = append(out, statement{id, path, m})
					}
				}
			}
			for k, child := range t {
				walk(id, path+"."+k, child)
			}
		case []any:
			for _, child := range t {
				walk(id, path, child)
			}
		}
	}
	for _, id := range sortedKeys(resources) {
		walk(id, id, resources[id].Properties)
	}
	return out
}

func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// isKeyAdministration is the one allowed wildcard: CDK's default key policy
// statement giving the account root kms:*, which delegates key access to IAM
// policies (where no wildcard is allowed). Without it a key becomes unmanageable.
func isKeyAdministration(s statement) bool {
	principal := canonical(s.body["Principal"])
	return resources[s.resource].Type == "AWS::KMS::Key" &&
		slices.Equal(stringList(s.body["Action"]), []string{"kms:*"}) &&
		strings.Contains(principal, `":root"`)
}

func TestNoWildcardActions(t *testing.T) {
	all := statements()
	if len(all) < 30 {
		t.Fatalf("found only %d policy statements; the walker is broken", len(all))
	}
	checked := 0
	for _, s := range all {
		if s.body["Effect"] != "Allow" {
			continue // a Deny with s3:* (TLS only) restricts, it grants nothing
		}
		checked++
		if _, ok := s.body["NotAction"]; ok {
			t.Errorf("%s: Allow with NotAction grants everything else: %s", s.path, canonical(s.body))
		}
		for _, action := range stringList(s.body["Action"]) {
			if strings.Contains(action, "*") && !isKeyAdministration(s) {
				t.Errorf("%s: wildcard action %q in %s", s.path, action, canonical(s.body))
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Allow statements checked")
	}
}

func TestRolesUseNoManagedPolicies(t *testing.T) {
	for id, r := range ofType("AWS::IAM::Role") {
		if _, ok := r.Properties["ManagedPolicyArns"]; ok {
			t.Errorf("role %s attaches managed policies %s", id, canonical(r.Properties["ManagedPolicyArns"]))
		}
	}
	assert(t, "no managed policies", func() { tpl.ResourceCountIs(jsii.String("AWS::IAM::ManagedPolicy"), jsii.Number(0)) })
}

// refs collects the logical ids a template fragment refers to (Ref, Fn::GetAtt).
func refs(v any, into map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["Ref"].(string); ok && !strings.HasPrefix(id, "AWS::") {
			into[id] = true
		}
		if att, ok := t["Fn::GetAtt"].([]any); ok && len(att) > 0 {
			into[att[0].(string)] = true
		}
		for _, child := range t {
			refs(child, into)
		}
	case []any:
		for _, child := range t {
			refs(child, into)
		}
	}
}

func roleStatements(t *testing.T, rolePath string) []statement {
	t.Helper()
	id := logicalID(t, rolePath+"/DefaultPolicy/Resource")
	var out []statement
	for _, s := range statements() {
		if s.resource == id {
			out = append(out, s)
		}
	}
	return out
}

// TestEachFunctionTouchesOnlyItsOwnResources pins every function role to the exact
// actions and resources its job needs.
func TestEachFunctionTouchesOnlyItsOwnResources(t *testing.T) {
	// Every function also writes its run reports under the report prefix in
	// the state bucket (s3:PutObject, kms:GenerateDataKey on the state key).
	common := []string{"logs:CreateLogStream", "logs:PutLogEvents", "events:PutEvents"}
	destination := []string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
	// With a read-only admin key configured, every function in dry run (all
	// of them by default) and the export read it; keyrotation also rotates
	// the read-write one.
	cases := map[string]struct {
		actions   []string
		resources []string // construct paths
	}{
		fnenv.KeyRotation: {
			actions: append(append(slices.Clone(common), destination...), "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
				"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
				"secretsmanager:TagResource", "secretsmanager:UntagResource", "kms:Decrypt", "kms:GenerateDataKey", "s3:PutObject"),
			resources: []string{"KeyRotationLogs/Resource", "SummaryBus/Resource", "AdminKey/Secret/Resource", "ReadOnlyAdminKey/Secret/Resource",
				"ServiceAccountKey-billing/Secret/Resource", "AdminKeySecretKey/Resource", "FailedRunsQueue/Resource", "StateBucket/Resource", "StateKey/Resource"},
		},
		fnenv.InviteCleanup: {
			actions: append(append(slices.Clone(common), destination...), "secretsmanager:GetSecretValue", "kms:Decrypt",
				"kms:GenerateDataKey", "s3:PutObject"),
			resources: []string{"InviteCleanupLogs/Resource", "SummaryBus/Resource", "ReadOnlyAdminKey/Secret/Resource", "AdminKeySecretKey/Resource",
				"FailedRunsQueue/Resource", "StateBucket/Resource", "StateKey/Resource"},
		},
		fnenv.AuditExport: {
			actions: append(append(slices.Clone(common), destination...), "secretsmanager:GetSecretValue", "s3:GetObject", "s3:PutObject",
				"s3:AbortMultipartUpload", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey"),
			resources: []string{"AuditExportLogs/Resource", "SummaryBus/Resource", "ReadOnlyAdminKey/Secret/Resource", "AdminKeySecretKey/Resource",
				"AuditBucket/Resource", "StateBucket/Resource", "AuditKey/Resource", "StateKey/Resource", "FailedRunsQueue/Resource"},
		},
		// inventory: reads the organization with the read-only key, reads and
		// writes its own partitions and manifests in the audit bucket.
		fnenv.Inventory: {
			actions: append(append(slices.Clone(common), destination...), "secretsmanager:GetSecretValue", "s3:GetObject", "s3:PutObject",
				"s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey"),
			resources: []string{"InventoryLogs/Resource", "SummaryBus/Resource", "ReadOnlyAdminKey/Secret/Resource", "AdminKeySecretKey/Resource",
				"AuditBucket/Resource", "StateBucket/Resource", "AuditKey/Resource", "StateKey/Resource", "FailedRunsQueue/Resource"},
		},
		fnenv.Offboarding: {
			actions: append(slices.Clone(common), "secretsmanager:GetSecretValue", "s3:GetObject", "s3:PutObject", "s3:ListBucket",
				"kms:Decrypt", "kms:GenerateDataKey", "sqs:SendMessage",
				"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"),
			resources: []string{"OffboardingLogs/Resource", "SummaryBus/Resource", "ReadOnlyAdminKey/Secret/Resource", "AdminKeySecretKey/Resource",
				"StateBucket/Resource", "StateKey/Resource", "OffboardingDeadLetterQueue/Resource", "OffboardingQueue/Resource"},
		},
	}
	for _, fn := range fnenv.Functions {
		c := cases[fn]
		gotActions, gotRefs := map[string]bool{}, map[string]bool{}
		for _, s := range roleStatements(t, functionPaths[fn]+"Role") {
			for _, a := range stringList(s.body["Action"]) {
				gotActions[a] = true
			}
			refs(s.body["Resource"], gotRefs)
		}
		wantActions := slices.Clone(c.actions)
		sort.Strings(wantActions)
		if got := sortedKeys(gotActions); !slices.Equal(got, wantActions) {
			t.Errorf("%s actions:\n got  %v\n want %v", fn, got, wantActions)
		}
		if fn == fnenv.KeyRotation {
			// The secret created out of band is named by its literal ARN.
			found := false
			for _, s := range roleStatements(t, "KeyRotationRole") {
				if slices.Contains(stringList(s.body["Resource"]), existingSecretArn) &&
					slices.Contains(stringList(s.body["Action"]), "secretsmanager:PutSecretValue") {
					found = true
				}
			}
			if !found {
				t.Errorf("keyrotation may not rotate the existing secret %s", existingSecretArn)
			}
		}
		var wantRefs []string
		for _, p := range c.resources {
			wantRefs = append(wantRefs, logicalID(t, p))
		}
		sort.Strings(wantRefs)
		if got := sortedKeys(gotRefs); !slices.Equal(got, wantRefs) {
			t.Errorf("%s resources:\n got  %v\n want %v", fn, got, wantRefs)
		}
	}
}

// TestKeyRotationTagsOnlyRetirements: the tag permissions keyrotation needs for
// its retirement records cannot rewrite other tags (ownership, ABAC) on secrets.
func TestKeyRotationTagsOnlyRetirements(t *testing.T) {
	found := 0
	for _, s := range roleStatements(t, "KeyRotationRole") {
		actions := stringList(s.body["Action"])
		if !slices.Contains(actions, "secretsmanager:TagResource") && !slices.Contains(actions, "secretsmanager:UntagResource") {
			continue
		}
		found++
		want := `{"ForAllValues:StringLike":{"aws:TagKeys":["` + fnenv.RetireTagPrefix + `*"]}}`
		if got := canonical(s.body["Condition"]); got != want {
			t.Errorf("tag statement condition = %s, want %s", got, want)
		}
		if !slices.Equal(actions, []string{"secretsmanager:TagResource", "secretsmanager:UntagResource"}) {
			t.Errorf("tag statement grants %v", actions)
		}
	}
	if found == 0 {
		t.Error("keyrotation cannot record retirements: no TagResource statement")
	}
}

// TestObjectAccessIsLimitedToPrefixes checks the S3 object ARNs and List conditions
// of the two functions that use buckets, and that KMS use goes through S3 only.
func TestObjectAccessIsLimitedToPrefixes(t *testing.T) {
	audit, state := logicalID(t, "AuditBucket/Resource"), logicalID(t, "StateBucket/Resource")
	objects := func(bucket, prefix string) string {
		return canonical(map[string]any{"Fn::Join": []any{"", []any{getAtt(bucket), "/" + prefix + "*"}}})
	}
	prefix, org := cfg.AuditExport.Prefix+"/", "org_id="+cfg.OrgID+"/"
	checkpoint := prefix + "_state/" + org + "checkpoint.json"
	inv := cfg.Inventory.Prefix + "/inventory/"
	probe := prefix + "_state/" + org + fnenv.ConditionalWriteProbe
	detectState := prefix + "_state/" + org + "detect.json"
	findings := prefix + "_findings/" + org
	journal := cfg.Offboarding.JournalPrefix
	cases := map[string]struct {
		objectARNs   []string
		listPrefixes map[string]string // bucket -> s3:prefix pattern
	}{
		// This organization's data and digests; one exact checkpoint object.
		// With detection: its findings, its state beside the checkpoint, and
		// the offboarding journal, read only.
		"AuditExportRole": {
			objectARNs: []string{objects(audit, prefix+org), objects(audit, prefix+"_digests/"+org), objects(audit, findings),
				canonical(map[string]any{"Fn::Join": []any{"", []any{getAtt(state), "/" + checkpoint}}}),
				canonical(map[string]any{"Fn::Join": []any{"", []any{getAtt(state), "/" + probe}}}),
				canonical(map[string]any{"Fn::Join": []any{"", []any{getAtt(state), "/" + detectState}}}),
				objects(state, journal),
				objects(state, fnenv.ReportPrefix+fnenv.AuditExport+"/")},
			listPrefixes: map[string]string{audit: prefix + org + "*," + prefix + "_digests/" + org + "*," + findings + "*",
				state: checkpoint + "," + probe + "," + detectState + "," + journal + "*"},
		},
		// This organization's table partitions and manifests only.
		"InventoryRole": {
			objectARNs: []string{objects(audit, inv+"table=*/"+org), objects(audit, inv+"_manifests/"+org),
				objects(state, fnenv.ReportPrefix+fnenv.Inventory+"/")},
			listPrefixes: map[string]string{audit: inv + "table=*/" + org + "*," + inv + "_manifests/" + org + "*"},
		},
		"OffboardingRole": {
			objectARNs:   []string{objects(state, cfg.Offboarding.JournalPrefix), objects(state, fnenv.ReportPrefix+fnenv.Offboarding+"/")},
			listPrefixes: map[string]string{state: cfg.Offboarding.JournalPrefix + "*"},
		},
	}
	for role, c := range cases {
		var objectARNs []string
		lists := map[string]string{}
		for _, s := range roleStatements(t, role) {
			actions := stringList(s.body["Action"])
			switch {
			case slices.Contains(actions, "s3:GetObject") || slices.Contains(actions, "s3:PutObject"):
				want := []string{"s3:GetObject", "s3:PutObject"}
				if contains(canonical(s.body["Resource"]), fnenv.ReportPrefix) {
					want = []string{"s3:PutObject"} // run reports: written, never read back
				}
				if role == "AuditExportRole" && contains(canonical(s.body["Resource"]), "/"+journal+"*") {
					want = []string{"s3:GetObject"} // the offboarding journal: read, never written
				}
				if role == "AuditExportRole" && contains(canonical(s.body["Resource"]), audit) {
					want = append(want, "s3:AbortMultipartUpload")
				}
				slices.Sort(want)
				if !slices.Equal(slices.Sorted(slices.Values(actions)), want) {
					t.Errorf("%s object actions = %v, want %v", role, actions, want)
				}
				if list, ok := s.body["Resource"].([]any); ok {
					for _, r := range list {
						objectARNs = append(objectARNs, canonical(r))
					}
				} else {
					objectARNs = append(objectARNs, canonical(s.body["Resource"]))
				}
			case slices.Contains(actions, "s3:ListBucket"):
				bucket := map[string]bool{}
				refs(s.body["Resource"], bucket)
				condition, _ := s.body["Condition"].(map[string]any)
				like, _ := condition["StringLike"].(map[string]any)
				for id := range bucket {
					lists[id] = strings.Join(stringList(like["s3:prefix"]), ",")
				}
			case slices.Contains(actions, "kms:Decrypt") || slices.Contains(actions, "kms:GenerateDataKey"):
				if !contains(canonical(s.body["Condition"]), `"kms:ViaService"`) {
					t.Errorf("%s may use KMS outside S3: %s", role, canonical(s.body))
				}
			}
		}
		sort.Strings(objectARNs)
		want := slices.Clone(c.objectARNs)
		sort.Strings(want)
		if !slices.Equal(objectARNs, want) {
			t.Errorf("%s object ARNs:\n got  %v\n want %v", role, objectARNs, want)
		}
		if canonical(lists) != canonical(c.listPrefixes) {
			t.Errorf("%s list prefixes = %v, want %v", role, lists, c.listPrefixes)
		}
	}
}
