package crosscheck

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployWithoutConfigBuildsNothing: `make deploy` (and diff) without a
// real INFRA_CONFIG stops before building or installing anything.
func TestDeployWithoutConfigBuildsNothing(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	root := filepath.Join("..", "..")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy"}, "set INFRA_CONFIG="},
		{[]string{"diff"}, "set INFRA_CONFIG="},
		{[]string{"deploy", "INFRA_CONFIG=infra/config.example.json"}, "is the example, for synth only"},
		{[]string{"deploy", "INFRA_CONFIG=no/such/config.json"}, "no such file"},
	} {
		// -n prints what make would run without running it: a build step
		// in the output means the check came too late.
		out, err := exec.Command("make", append([]string{"-n", "-C", root}, tt.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("make %v: err %v, output:\n%s", tt.args, err, out)
		}
		if strings.Contains(string(out), "go build") || strings.Contains(string(out), "npm ci") {
			t.Errorf("make %v would build before refusing:\n%s", tt.args, out)
		}
	}
}
