package export_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// A run that must end early (the Lambda deadline near, or the operator's
// first Ctrl-C) finishes its open objects, seals what it wrote and leaves
// the job in the checkpoint; the next run continues it to the exact set.
func TestStopEarlyThenResume(t *testing.T) {
	tests := []struct {
		name string
		run  func(e *env, req export.Request) (export.Result, error)
	}{
		{"stop requested", func(e *env, req export.Request) (export.Result, error) {
			stop := make(chan struct{})
			var once sync.Once
			req.Stop = stop
			req.ProgressEvery = 5 * time.Millisecond
			req.Progress = func(p export.Progress) {
				if p.Events > 0 {
					once.Do(func() { close(stop) })
				}
			}
			return e.exporter(nil).Run(context.Background(), e.api(), req)
		}},
		{"deadline near", func(e *env, req export.Request) (export.Result, error) {
			// The run stops a quarter of the time left before the deadline
			// (at 1.5 s here); paging everything takes at least 30 pages of
			// 60 ms one after the other, and sealing has the last 0.5 s.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return e.exporter(nil).Run(ctx, e.api(), req)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed := adminapi.SmallSeed(21)
			e := newEnv(t, envOptions{seed: &seed, faults: adminapi.Faults{Latency: 60 * time.Millisecond}, cfg: func(c *export.Config) {
				c.SliceConcurrency = 1
			}})
			since := e.clock.Now().Add(-30 * 24 * time.Hour).Unix()
			first, err := tt.run(e, export.Request{Since: since})
			if err != nil {
				t.Fatal(err)
			}
			if !first.Pending || first.Generation != 1 || first.Events == 0 || first.Events >= int64(e.emu.Emulator.AuditEventCount()) {
				t.Fatalf("early stop: %+v, want a sealed generation 1 with part of the %d events and the job pending", first, e.emu.Emulator.AuditEventCount())
			}
			e.assertVerifiesCleanly()

			if err := e.emu.Emulator.SetFaults(adminapi.Faults{}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(5 * time.Minute)
			second := e.run(export.Request{})
			if second.Pending || second.Generation != 2 || first.Events+second.Events != int64(e.emu.Emulator.AuditEventCount()) {
				t.Fatalf("resumed run: %+v after %d events", second, first.Events)
			}
			e.assertExactlyOnce()
			e.assertVerifiesCleanly()
		})
	}
}

// The example events shipped with the function are what the handler accepts.
func TestExampleEvents(t *testing.T) {
	files, err := filepath.Glob("../examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example events: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev export.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := ev.Request(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}
