package secretsmanager_test

import (
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	smlocal "github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager/secretsmanagertest"
)

// Tokens are 32 to 64 characters, like the UUIDs the SDK generates.
const (
	tok1 = "11111111-1111-4111-8111-111111111111"
	tok2 = "22222222-2222-4222-8222-222222222222"
	tok3 = "33333333-3333-4333-8333-333333333333"
	tok4 = "44444444-4444-4444-8444-444444444444"
)

var arnPattern = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:(.+)-[A-Za-z0-9]{6}$`)

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func create(t *testing.T, c *awssm.Client, name, value, token string) *awssm.CreateSecretOutput {
	t.Helper()
	out, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(token)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return out
}

func putValue(t *testing.T, c *awssm.Client, id, value, token string, stages ...string) *awssm.PutSecretValueOutput {
	t.Helper()
	out, err := c.PutSecretValue(t.Context(), &awssm.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value), ClientRequestToken: aws.String(token), VersionStages: stages})
	if err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	return out
}

// stages returns VersionIdsToStages with each label list sorted.
func stages(t *testing.T, c *awssm.Client, id string) map[string][]string {
	t.Helper()
	d, err := c.DescribeSecret(t.Context(), &awssm.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	for _, l := range d.VersionIdsToStages {
		slices.Sort(l)
	}
	return d.VersionIdsToStages
}

func value(t *testing.T, c *awssm.Client, in *awssm.GetSecretValueInput) *awssm.GetSecretValueOutput {
	t.Helper()
	out, err := c.GetSecretValue(t.Context(), in)
	if err != nil {
		t.Fatalf("get %s: %v", aws.ToString(in.SecretId), err)
	}
	return out
}

func TestCreateAndGetByEveryIdentifier(t *testing.T) {
	srv := secretsmanagertest.New(t)
	c := srv.Client()
	out, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{
		Name:         aws.String("orgwarden/admin-key"),
		SecretString: aws.String(`{"type":"admin_key"}`),
		Description:  aws.String("admin key"),
		Tags:         []types.Tag{{Key: aws.String("app"), Value: aws.String("orgwarden")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := arnPattern.FindStringSubmatch(aws.ToString(out.ARN))
	if m == nil || m[1] != "orgwarden/admin-key" {
		t.Fatalf("ARN %q does not have the Secrets Manager form", aws.ToString(out.ARN))
	}
	if aws.ToString(out.VersionId) == "" {
		t.Fatal("no VersionId for a secret created with a value")
	}
	arn := aws.ToString(out.ARN)
	for name, id := range map[string]string{
		"name":        "orgwarden/admin-key",
		"arn":         arn,
		"partial arn": arn[:len(arn)-7],
	} {
		t.Run(name, func(t *testing.T) {
			got := value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String(id)})
			if aws.ToString(got.SecretString) != `{"type":"admin_key"}` || aws.ToString(got.ARN) != arn || aws.ToString(got.Name) != "orgwarden/admin-key" {
				t.Errorf("got %q %q %q", aws.ToString(got.SecretString), aws.ToString(got.ARN), aws.ToString(got.Name))
			}
			if aws.ToString(got.VersionId) != aws.ToString(out.VersionId) || !slices.Equal(got.VersionStages, []string{"AWSCURRENT"}) {
				t.Errorf("version %s stages %v", aws.ToString(got.VersionId), got.VersionStages)
			}
			if got.CreatedDate == nil || time.Since(*got.CreatedDate) > time.Minute {
				t.Errorf("CreatedDate %v", got.CreatedDate)
			}
		})
	}
	_, err = c.GetSecretValue(t.Context(), &awssm.GetSecretValueInput{SecretId: aws.String("orgwarden/other")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown secret: want ResourceNotFoundException, got %v", err)
	}
}

func TestBinarySecret(t *testing.T) {
	c := secretsmanagertest.New(t).Client()
	bin := []byte{0, 1, 2, 0xff}
	if _, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: bin}); err != nil {
		t.Fatal(err)
	}
	got := value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("bin")})
	if !slices.Equal(got.SecretBinary, bin) || got.SecretString != nil {
		t.Errorf("binary %v string %v", got.SecretBinary, got.SecretString)
	}
}

func TestCreateSecretErrorsAndIdempotency(t *testing.T) {
	tests := []struct {
		name     string
		in       awssm.CreateSecretInput
		wantCode string
	}{
		{"retry with the same token and value", awssm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(tok1)}, ""},
		{"same token, different value", awssm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(tok1)}, "ResourceExistsException"},
		{"existing name, new token", awssm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(tok2)}, "ResourceExistsException"},
		{"string and binary", awssm.CreateSecretInput{Name: aws.String("t"), SecretString: aws.String("v"), SecretBinary: []byte("v")}, "InvalidParameterException"},
		{"name with a space", awssm.CreateSecretInput{Name: aws.String("bad name"), SecretString: aws.String("v")}, "ValidationException"},
		{"short token", awssm.CreateSecretInput{Name: aws.String("u"), SecretString: aws.String("v"), ClientRequestToken: aws.String("short")}, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := secretsmanagertest.New(t).Client()
			first := create(t, c, "s", "v1", tok1)
			out, err := c.CreateSecret(t.Context(), &tt.in)
			if code := errorCode(err); code != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tt.wantCode)
			}
			if tt.wantCode == "" && (aws.ToString(out.VersionId) != tok1 || aws.ToString(out.ARN) != aws.ToString(first.ARN)) {
				t.Errorf("retry answered version %s arn %s", aws.ToString(out.VersionId), aws.ToString(out.ARN))
			}
			ids := slices.Sorted(maps.Keys(stages(t, c, "s")))
			if !slices.Equal(ids, []string{tok1}) {
				t.Errorf("versions after the call: %v, want only the first", ids)
			}
		})
	}
}

func TestPutSecretValueStagingLabels(t *testing.T) {
	c := secretsmanagertest.New(t).Client()
	create(t, c, "s", "v1", tok1)

	steps := []struct {
		name       string
		value      string
		token      string
		stages     []string
		wantOut    []string
		wantStages map[string][]string
	}{
		{"default moves AWSCURRENT and AWSPREVIOUS", "v2", tok2, nil, []string{"AWSCURRENT"},
			map[string][]string{tok1: {"AWSPREVIOUS"}, tok2: {"AWSCURRENT"}}},
		{"explicit AWSPENDING leaves AWSCURRENT", "v3", tok3, []string{"AWSPENDING"}, []string{"AWSPENDING"},
			map[string][]string{tok1: {"AWSPREVIOUS"}, tok2: {"AWSCURRENT"}, tok3: {"AWSPENDING"}}},
		{"new current deprecates the old previous", "v4", tok4, nil, []string{"AWSCURRENT"},
			map[string][]string{tok2: {"AWSPREVIOUS"}, tok3: {"AWSPENDING"}, tok4: {"AWSCURRENT"}}},
	}
	for _, st := range steps {
		out := putValue(t, c, "s", st.value, st.token, st.stages...)
		if aws.ToString(out.VersionId) != st.token || !slices.Equal(out.VersionStages, st.wantOut) {
			t.Errorf("%s: answered version %s stages %v", st.name, aws.ToString(out.VersionId), out.VersionStages)
		}
		if got := stages(t, c, "s"); !maps.EqualFunc(got, st.wantStages, slices.Equal) {
			t.Errorf("%s: stages %v, want %v", st.name, got, st.wantStages)
		}
	}

	if got := value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("s")}); aws.ToString(got.SecretString) != "v4" {
		t.Errorf("AWSCURRENT value %q", aws.ToString(got.SecretString))
	}
	if got := value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING")}); aws.ToString(got.SecretString) != "v3" {
		t.Errorf("AWSPENDING value %q", aws.ToString(got.SecretString))
	}
	// A deprecated version is still readable by id.
	if got := value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(tok1)}); aws.ToString(got.SecretString) != "v1" || len(got.VersionStages) != 0 {
		t.Errorf("deprecated version: %q %v", aws.ToString(got.SecretString), got.VersionStages)
	}
	_, err := c.GetSecretValue(t.Context(), &awssm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(tok2), VersionStage: aws.String("AWSCURRENT")})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("VersionId and a VersionStage it does not carry: got %v", err)
	}

	for _, tt := range []struct {
		includeDeprecated bool
		want              []string
	}{{false, []string{tok2, tok3, tok4}}, {true, []string{tok1, tok2, tok3, tok4}}} {
		out, err := c.ListSecretVersionIds(t.Context(), &awssm.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(tt.includeDeprecated)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range out.Versions {
			got = append(got, aws.ToString(v.VersionId))
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("IncludeDeprecated=%v: versions %v, want %v", tt.includeDeprecated, got, tt.want)
		}
	}
}

func TestPutSecretValueIdempotency(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		wantCode string
	}{
		{"same token and value is a no-op", "v2", ""},
		{"same token, different value", "other", "ResourceExistsException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := secretsmanagertest.New(t).Client()
			create(t, c, "s", "v1", tok1)
			putValue(t, c, "s", "v2", tok2, "AWSPENDING")
			putValue(t, c, "s", "v3", tok3)
			before := stages(t, c, "s")

			_, err := c.PutSecretValue(t.Context(), &awssm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(tt.value), ClientRequestToken: aws.String(tok2)})
			if code := errorCode(err); code != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tt.wantCode)
			}
			if after := stages(t, c, "s"); !maps.EqualFunc(before, after, slices.Equal) {
				t.Errorf("labels changed from %v to %v", before, after)
			}
		})
	}
}

// TestUpdateSecretVersionStage starts every case from
// v1 AWSPREVIOUS, v2 AWSCURRENT, v3 AWSPENDING.
func TestUpdateSecretVersionStage(t *testing.T) {
	tests := []struct {
		name       string
		in         awssm.UpdateSecretVersionStageInput
		wantCode   string
		wantStages map[string][]string
	}{
		{
			name:       "finishSecret: move AWSCURRENT to the pending version",
			in:         awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok3), RemoveFromVersionId: aws.String(tok2)},
			wantStages: map[string][]string{tok2: {"AWSPREVIOUS"}, tok3: {"AWSCURRENT", "AWSPENDING"}},
		},
		{
			name:     "moving an attached label needs RemoveFromVersionId",
			in:       awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok3)},
			wantCode: "InvalidParameterException",
		},
		{
			name:     "RemoveFromVersionId must hold the label",
			in:       awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok3), RemoveFromVersionId: aws.String(tok1)},
			wantCode: "InvalidParameterException",
		},
		{
			name:       "rollback to AWSPREVIOUS swaps the two",
			in:         awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok1), RemoveFromVersionId: aws.String(tok2)},
			wantStages: map[string][]string{tok1: {"AWSCURRENT"}, tok2: {"AWSPREVIOUS"}, tok3: {"AWSPENDING"}},
		},
		{
			name:       "remove AWSPENDING deprecates its version",
			in:         awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(tok3)},
			wantStages: map[string][]string{tok1: {"AWSPREVIOUS"}, tok2: {"AWSCURRENT"}},
		},
		{
			name:     "AWSCURRENT cannot be removed outright",
			in:       awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: aws.String(tok2)},
			wantCode: "InvalidParameterException",
		},
		{
			name:     "removing a label the version lacks",
			in:       awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(tok2)},
			wantCode: "InvalidParameterException",
		},
		{
			name:       "a custom label attaches without RemoveFromVersionId",
			in:         awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("blue"), MoveToVersionId: aws.String(tok1)},
			wantStages: map[string][]string{tok1: {"AWSPREVIOUS", "blue"}, tok2: {"AWSCURRENT"}, tok3: {"AWSPENDING"}},
		},
		{
			name:       "moving a label onto the version that has it is a no-op",
			in:         awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok2)},
			wantStages: map[string][]string{tok1: {"AWSPREVIOUS"}, tok2: {"AWSCURRENT"}, tok3: {"AWSPENDING"}},
		},
		{
			name:     "unknown version",
			in:       awssm.UpdateSecretVersionStageInput{VersionStage: aws.String("blue"), MoveToVersionId: aws.String(tok4)},
			wantCode: "ResourceNotFoundException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := secretsmanagertest.New(t).Client()
			create(t, c, "s", "v1", tok1)
			putValue(t, c, "s", "v2", tok2)
			putValue(t, c, "s", "v3", tok3, "AWSPENDING")
			before := stages(t, c, "s")

			in := tt.in
			in.SecretId = aws.String("s")
			_, err := c.UpdateSecretVersionStage(t.Context(), &in)
			if code := errorCode(err); code != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tt.wantCode)
			}
			want := tt.wantStages
			if tt.wantCode != "" {
				want = before
			}
			if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("stages %v, want %v", got, want)
			}
		})
	}
}

func TestDescribeSecret(t *testing.T) {
	now := time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC)
	srv := secretsmanagertest.New(t, smlocal.WithClock(func() time.Time { return now }))
	c := srv.Client()
	_, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{
		Name: aws.String("s"), SecretString: aws.String("v"), Description: aws.String("d"), KmsKeyId: aws.String("alias/k"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(t.Context(), &awssm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Description) != "d" || aws.ToString(d.KmsKeyId) != "alias/k" || aws.ToBool(d.RotationEnabled) || d.LastAccessedDate != nil {
		t.Errorf("describe: %+v", d)
	}
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "a" || !d.CreatedDate.Equal(now) || !d.LastChangedDate.Equal(now) {
		t.Errorf("tags %v created %v changed %v", d.Tags, d.CreatedDate, d.LastChangedDate)
	}
	value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("s")})
	d, err = c.DescribeSecret(t.Context(), &awssm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if d.LastAccessedDate == nil || !d.LastAccessedDate.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("LastAccessedDate %v, want the day of the read", d.LastAccessedDate)
	}
}

func TestTagAndUntag(t *testing.T) {
	c := secretsmanagertest.New(t).Client()
	create(t, c, "s", "v", tok1)
	ctx := t.Context()
	if _, err := c.TagResource(ctx, &awssm.TagResourceInput{SecretId: aws.String("s"), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &awssm.TagResourceInput{SecretId: aws.String("s"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &awssm.UntagResourceInput{SecretId: aws.String("s"), TagKeys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(ctx, &awssm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "a" || aws.ToString(d.Tags[0].Value) != "3" {
		t.Errorf("tags = %v, want only a=3", d.Tags)
	}
}

func TestListSecrets(t *testing.T) {
	c := secretsmanagertest.New(t).Client()
	ctx := t.Context()
	fixtures := []struct {
		name, desc string
		tags       map[string]string
	}{
		{"orgwarden/admin-key", "Admin key for ACME", map[string]string{"orgwarden:managed": "true", "team": "platform"}},
		{"orgwarden/svc/billing", "billing service account", map[string]string{"orgwarden:managed": "true", "team": "billing"}},
		{"other/db", "database", map[string]string{"team": "data"}},
		{"orgwarden/retired", "scheduled for deletion", map[string]string{"orgwarden:managed": "true"}},
	}
	for _, f := range fixtures {
		in := &awssm.CreateSecretInput{Name: aws.String(f.name), Description: aws.String(f.desc), SecretString: aws.String("x")}
		for k, v := range f.tags {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := c.CreateSecret(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteSecret(ctx, &awssm.DeleteSecretInput{SecretId: aws.String("orgwarden/retired")}); err != nil {
		t.Fatal(err)
	}

	f := func(key types.FilterNameStringType, values ...string) types.Filter {
		return types.Filter{Key: key, Values: values}
	}
	tests := []struct {
		name    string
		in      awssm.ListSecretsInput
		want    []string
		perPage int32
	}{
		{"everything live", awssm.ListSecretsInput{}, []string{"orgwarden/admin-key", "orgwarden/svc/billing", "other/db"}, 0},
		{"with planned deletion", awssm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}, []string{"orgwarden/admin-key", "orgwarden/svc/billing", "other/db", "orgwarden/retired"}, 0},
		{"name prefix", awssm.ListSecretsInput{Filters: []types.Filter{f(types.FilterNameStringTypeName, "orgwarden/")}}, []string{"orgwarden/admin-key", "orgwarden/svc/billing"}, 0},
		{"name is case-sensitive", awssm.ListSecretsInput{Filters: []types.Filter{f(types.FilterNameStringTypeName, "OrgWarden/")}}, nil, 0},
		{"tag key", awssm.ListSecretsInput{Filters: []types.Filter{f(types.FilterNameStringTypeTagKey, "orgwarden:managed")}}, []string{"orgwarden/admin-key", "orgwarden/svc/billing"}, 0},
		{"tag key and value", awssm.ListSecretsInput{Filters: []types.Filter{f(types.FilterNameStringTypeTagKey, "team"), f(types.FilterNameStringTypeTagValue, "billing", "data")}}, []string{"orgwarden/svc/billing", "other/db"}, 0},
		{"negated tag key", awssm.ListSecretsInput{Filters: []types.Filter{f(types.FilterNameStringTypeTagKey, "!orgwarden:")}}, []string{"other/db"}, 0},
		{"description ignores case", awssm.ListSecretsInput{Filters: []types.Filter{f(types.FilterNameStringTypeDescription, "admin KEY")}}, []string{"orgwarden/admin-key"}, 0},
		{"pages of one", awssm.ListSecretsInput{}, []string{"orgwarden/admin-key", "orgwarden/svc/billing", "other/db"}, 1},
		{"newest first", awssm.ListSecretsInput{SortOrder: types.SortOrderTypeDesc}, []string{"other/db", "orgwarden/svc/billing", "orgwarden/admin-key"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if tt.perPage > 0 {
				in.MaxResults = aws.Int32(tt.perPage)
			}
			var got []string
			p := awssm.NewListSecretsPaginator(c, &in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tt.perPage > 0 && len(page.SecretList) > int(tt.perPage) {
					t.Errorf("page of %d, MaxResults %d", len(page.SecretList), tt.perPage)
				}
				for _, e := range page.SecretList {
					got = append(got, aws.ToString(e.Name))
					if len(e.SecretVersionsToStages) != 1 {
						t.Errorf("%s: SecretVersionsToStages %v", aws.ToString(e.Name), e.SecretVersionsToStages)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeleteAndRestore(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var clock = func() time.Time { return now }
	c := secretsmanagertest.New(t, smlocal.WithClock(func() time.Time { return clock() })).Client()
	ctx := t.Context()
	create(t, c, "s", "v", tok1)

	del, err := c.DeleteSecret(ctx, &awssm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	if !del.DeletionDate.Equal(now.AddDate(0, 0, 7)) {
		t.Errorf("DeletionDate %v", del.DeletionDate)
	}
	var invalid *types.InvalidRequestException
	if _, err := c.GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: aws.String("s")}); !errors.As(err, &invalid) {
		t.Errorf("read of a deleted secret: want InvalidRequestException, got %v", err)
	}
	if _, err := c.CreateSecret(ctx, &awssm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}); !errors.As(err, &invalid) {
		t.Errorf("create over a deleted secret: want InvalidRequestException, got %v", err)
	}
	d, err := c.DescribeSecret(ctx, &awssm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil || d.DeletedDate == nil || !d.DeletedDate.Equal(now) {
		t.Fatalf("describe of a deleted secret: %v %v", d, err)
	}
	if _, err := c.RestoreSecret(ctx, &awssm.RestoreSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	value(t, c, &awssm.GetSecretValueInput{SecretId: aws.String("s")})

	// Past the recovery window the secret is gone.
	if _, err := c.DeleteSecret(ctx, &awssm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	later := now.AddDate(0, 0, 7)
	clock = func() time.Time { return later }
	var nf *types.ResourceNotFoundException
	if _, err := c.DescribeSecret(ctx, &awssm.DescribeSecretInput{SecretId: aws.String("s")}); !errors.As(err, &nf) {
		t.Errorf("after the window: want ResourceNotFoundException, got %v", err)
	}

	for _, tt := range []struct {
		name     string
		in       awssm.DeleteSecretInput
		wantCode string
	}{
		{"force", awssm.DeleteSecretInput{ForceDeleteWithoutRecovery: aws.Bool(true)}, ""},
		{"force and window", awssm.DeleteSecretInput{ForceDeleteWithoutRecovery: aws.Bool(true), RecoveryWindowInDays: aws.Int64(7)}, "InvalidParameterException"},
		{"window too short", awssm.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(6)}, "InvalidParameterException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "del-" + strings.ReplaceAll(tt.name, " ", "-")
			create(t, c, name, "v", tok2)
			in := tt.in
			in.SecretId = aws.String(name)
			_, err := c.DeleteSecret(ctx, &in)
			if code := errorCode(err); code != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tt.wantCode)
			}
			_, err = c.DescribeSecret(ctx, &awssm.DescribeSecretInput{SecretId: aws.String(name)})
			if gone := errors.As(err, &nf); gone != (tt.wantCode == "") {
				t.Errorf("secret gone = %v after %s", gone, tt.name)
			}
		})
	}
}
