package crosscheck

import (
	"testing"

	"github.com/orgwarden/orgwarden/infra/fnenv"
	sharedconfig "github.com/orgwarden/orgwarden/shared/config"
)

// TestStackEnvironmentHasOnlyKnownVariables: every ORGWARDEN_* variable the
// stack sets is one shared/config knows, so the functions' init-time check
// of unknown names (a typo would be refused) accepts the deployed stack.
func TestStackEnvironmentHasOnlyKnownVariables(t *testing.T) {
	for _, fn := range fnenv.Functions {
		env, err := fnenv.For(fn, stackConfig(), deployed)
		if err != nil {
			t.Fatal(err)
		}
		if err := sharedconfig.CheckNames(sharedconfig.MapEnv(env)); err != nil {
			t.Errorf("%s: the stack sets a variable no function reads: %v", fn, err)
		}
		if len(sharedconfig.Names(sharedconfig.MapEnv(env))) != len(env) {
			t.Errorf("%s: not every variable was checked", fn)
		}
	}
}
