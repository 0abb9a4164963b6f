package stack_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack/stacktest"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// buildTestFunction builds the runtimeapi test function, which answers
// rotation events and fails the step named by FN_FAIL_STEP.
func buildTestFunction(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	out, err := exec.Command(goTool, "build", "-o", bin, "../../runtimeapi/testdata/fn").CombinedOutput()
	if err != nil {
		t.Fatalf("build test function: %v\n%s", err, out)
	}
	return bin
}

// TestRotationThroughTheRuntimeAPI: the SDK's RotateSecret reaches a real
// function process through Secrets Manager and the Runtime API.
func TestRotationThroughTheRuntimeAPI(t *testing.T) {
	bin := buildTestFunction(t)
	const fnARN = "arn:aws:lambda:us-east-1:000000000000:function:keyrotation"
	tests := []struct {
		name      string
		failStep  string
		wantSteps []string
	}{
		{"all steps", "", []string{"createSecret", "setSecret", "testSecret", "finishSecret"}},
		{"failing testSecret", "testSecret", []string{"createSecret", "setSecret", "testSecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := stacktest.New(t, stack.Options{})
			fn, err := runtimeapi.NewFunction(runtimeapi.FunctionConfig{
				ProcessConfig: runtimeapi.ProcessConfig{Path: bin, FunctionName: "keyrotation", Env: append(st.Env(), "FN_FAIL_STEP="+tt.failStep)},
				Timeout:       10 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer fn.Close()
			st.SecretsManager.SetRotationInvoker(stack.RotationViaLambda(fn))

			c := st.SecretsManager.Client()
			created, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{Name: aws.String("admin"), SecretString: aws.String("v")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.RotateSecret(t.Context(), &awssm.RotateSecretInput{SecretId: aws.String("admin"), RotationLambdaARN: aws.String(fnARN)}); err != nil {
				t.Fatal(err)
			}
			last := tt.wantSteps[len(tt.wantSteps)-1]
			if _, err := fn.WaitLine(t.Context(), func(l runtimeapi.Line) bool { return strings.HasPrefix(l.Text, "rotation step "+last) }); err != nil {
				t.Fatalf("function never logged its last step: %v", err)
			}
			var steps []string
			for _, l := range fn.Lines() {
				if rest, ok := strings.CutPrefix(l.Text, "rotation step "); ok {
					step, secretID, _ := strings.Cut(rest, " ")
					if secretID != aws.ToString(created.ARN) {
						t.Errorf("step %s for %q", step, secretID)
					}
					steps = append(steps, step)
				}
			}
			if !slices.Equal(steps, tt.wantSteps) || fn.ColdStarts() != 1 {
				t.Errorf("function ran %v in %d processes, want %v in one", steps, fn.ColdStarts(), tt.wantSteps)
			}
			rot := st.SecretsManager.Rotations()
			if len(rot) != 1 || (rot[0].Err != nil) != (tt.failStep != "") {
				t.Fatalf("rotations %+v", rot)
			}
			if tt.failStep != "" && !strings.Contains(rot[0].Err.Error(), fmt.Sprintf("rotation step %s failed", tt.failStep)) {
				t.Errorf("failure recorded as %v", rot[0].Err)
			}
		})
	}
}
