package export_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
)

// Against a server that drops If-None-Match and If-Match, the export
// refuses before it writes anything but its probe, alone or with runs
// racing: no two runs can seal the same generation unnoticed.
func TestServerIgnoringConditionsIsRefused(t *testing.T) {
	e, since := historyEnv(t, 200)
	e.s3.IgnoreConditions(true)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.exporter(nil).Run(context.Background(), e.api(), export.Request{Since: since})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, export.ErrNoConditionalWrites) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("run %d against a server ignoring conditions: %v", i, err)
		}
	}
	for _, key := range e.keys("") {
		if !strings.HasSuffix(key, "/"+export.ProbeName) {
			t.Errorf("the refused runs wrote %s", key)
		}
	}

	// The same bucket, conditions honoured again: the export runs.
	e.s3.IgnoreConditions(false)
	e.run(export.Request{Since: since})
	e.assertExactlyOnce()
	e.assertVerifiesCleanly()
}
