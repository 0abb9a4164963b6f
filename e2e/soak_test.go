package e2e_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/e2e"
	"github.com/orgwarden/orgwarden/e2e/harness"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	infraconfig "github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	localsqs "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// Soak knobs, read from the environment (e2e/e2e.mk passes them on):
// ORGWARDEN_SOAK_RUNS scheduled export runs and offboarding leavers,
// ORGWARDEN_SOAK_SEED the seed of faults, crash points and data.
func soakSettings(t *testing.T) (runs int, seed uint64) {
	runs, seed = 8, 1
	if v := os.Getenv("ORGWARDEN_SOAK_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			t.Fatalf("ORGWARDEN_SOAK_RUNS=%q: want a number of at least 3", v)
		}
		runs = n
	}
	if v := os.Getenv("ORGWARDEN_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ORGWARDEN_SOAK_SEED=%q: %v", v, err)
		}
		seed = n
	}
	return runs, seed
}

// soakFaults are the combined faults of both soaks: 429 with Retry-After,
// 500, 503, dropped connections and latency on every call.
func soakFaults(seed uint64) adminapi.Faults {
	return adminapi.Faults{RateLimited: 0.05, ServerError: 0.02, Unavailable: 0.02, Reset: 0.02,
		Latency: 3 * time.Millisecond, RetryAfter: 5 * time.Millisecond, Seed: seed}
}

// crasher kills the function's process with SIGKILL (what an out-of-memory
// kill or a lost host does) once the Admin API has received `after` more
// requests: a point inside the invocation's work, whatever the timing.
type crasher struct {
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	killed   bool
}

func crashAfterRequests(fn *lambdaFunction, emu *adminapi.Emulator, after int) *crasher {
	c := &crasher{stop: make(chan struct{}), done: make(chan struct{})}
	start := len(emu.Requests())
	go func() {
		defer close(c.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			if len(emu.Requests())-start < after {
				continue
			}
			if p := fn.Process(); p != nil {
				c.killed = syscall.Kill(p.Pid(), syscall.SIGKILL) == nil
			}
			return
		}
	}()
	return c
}

// end stops watching and reports whether the process was killed.
func (c *crasher) end() bool {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return c.killed
}

// TestSoakAuditExport: scheduled runs of the real export under combined
// API faults, with new and late events between runs and the process killed
// in the middle of two runs. A killed run's generation is held by its
// lease (2 minutes): runs in between skip, the first after it recovers.
// At the end every event of the organization is in the bucket exactly
// once and the export verifies.
func TestSoakAuditExport(t *testing.T) {
	runs, seed := soakSettings(t)
	rng := rand.New(rand.NewPCG(seed, 0xA0D17))
	d := deploy(t, deployOptions{faults: soakFaults(seed), unvalidated: true})
	emu := d.Emulator
	fn := d.function("auditexport", harness.FunctionOptions{Env: map[string]string{"ORGWARDEN_AUDIT_SLICE_CONCURRENCY": "4"}})
	crashRuns := map[int]bool{0: true, runs / 2: true}

	var crashes, skips, recoveries int
	// settle runs the schedule until a run finds no live lease and nothing
	// pending: after a kill, runs skip until the lease runs out.
	settle := func() {
		t.Helper()
		deadline := time.Now().Add(export.DefaultLease + time.Minute)
		for {
			var r exportResult
			decode(t, fn.ok(`{}`, nil).Payload, &r)
			if r.Recovered > 0 {
				recoveries++
			}
			if r.Skipped == "" && !r.Pending {
				return
			}
			if r.Skipped != "" {
				skips++
			}
			if time.Now().After(deadline) {
				t.Fatalf("the export never settled: %+v", r)
			}
			time.Sleep(5 * time.Second)
		}
	}
	for run := 0; run < runs; run++ {
		payload := `{}`
		if run == 0 {
			payload = fmt.Sprintf(`{"since":%q}`, time.Now().AddDate(0, 0, -30).UTC().Format(time.DateOnly))
		} else {
			now := time.Now().Unix()
			n := 20 + rng.IntN(200)
			if crashRuns[run] {
				n = 1500 // enough pages for the kill to land mid-run
			}
			for i := range n {
				appendEvent(t, emu, fmt.Sprintf("audit_log-soak-%d-%04d", run, i), now-int64(rng.IntN(1800)))
			}
		}
		var c *crasher
		if crashRuns[run] {
			c = crashAfterRequests(fn, emu, 3+rng.IntN(12))
		}
		res := fn.invoke(payload, runtimeapi.InvokeOptions{})
		if c != nil && c.end() && res.ErrorType == runtimeapi.ErrorTypeExit {
			crashes++
			settle()
			continue
		}
		if res.Failed() {
			t.Fatalf("run %d failed without a kill: %s: %s", run, res.ErrorType, res.ErrorMessage)
		}
		var r exportResult
		decode(t, res.Payload, &r)
		if r.Skipped != "" {
			t.Fatalf("run %d skipped with no run to wait for: %s", run, r.Skipped)
		}
	}
	settle()

	got, objects, err := e2e.ReadExport(t.Context(), d.AWS.S3.Client(), d.Res.AuditBucket, fmt.Sprintf("%s/org_id=%s/", d.Config.AuditExport.Prefix, harness.OrgID))
	if err != nil {
		t.Fatal(err)
	}
	dups, missing, extra := e2e.Diff(got, emu.AuditEventIDs())
	if len(dups)+len(missing)+len(extra) > 0 {
		t.Fatalf("after the soak: %d duplicated %v, %d lost %v, %d extra %v", len(dups), head(dups), len(missing), head(missing), len(extra), head(extra))
	}
	rep, err := verify.Verify(t.Context(), d.AWS.S3.Client(), verify.Options{Bucket: d.Res.AuditBucket, StateBucket: d.Res.AuditStateBucket, Prefix: d.Config.AuditExport.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		var b strings.Builder
		_ = rep.Write(&b)
		t.Fatalf("the export does not verify after the soak:\n%s", b.String())
	}
	if crashes == 0 {
		t.Error("no run was killed mid-way: the soak did not exercise a crash")
	}
	faulted := 0
	for _, r := range emu.Requests() {
		if r.Fault != "" {
			faulted++
		}
	}
	t.Logf("%d events in %d objects, none lost or duplicated; %d runs: %d killed, %d skipped on a live lease, %d recovered a generation; %d of %d API calls faulted",
		len(got), objects, runs, crashes, skips, recoveries, faulted, len(emu.Requests()))
}

// TestSoakOffboarding: a queue of valid requests (some sent twice),
// malformed ones, through the event source mapping under combined API
// faults, with the process killed in the middle of two batches. Killed
// batches come back after the visibility timeout. At the end every valid
// request is done exactly once (its message left the queue once, one
// "offboarded" summary per person, each person gone) and every malformed
// message is in the dead-letter queue.
func TestSoakOffboarding(t *testing.T) {
	runs, seed := soakSettings(t)
	rng := rand.New(rand.NewPCG(seed, 0x0FFB0A7D))
	clk := &offsetClock{}
	d := deploy(t, deployOptions{
		faults: soakFaults(seed), unvalidated: true,
		configure: func(c *infraconfig.Config) { c.Offboarding.DryRun = false },
		stack:     stack.Options{SQS: []localsqs.Option{localsqs.WithClock(clk.Now)}},
	})
	emu := d.Emulator
	fn := d.function("offboarding", harness.FunctionOptions{})
	m := d.mapping(fn)
	c := d.AWS.SQS.Client()

	leavers := readersWithKeys(emu, 2*runs)
	if len(leavers) < 3 {
		t.Fatalf("the seeded organization has %d readers with keys", len(leavers))
	}
	valid := map[string]string{} // message id -> email
	for i, u := range leavers {
		body := fmt.Sprintf(`{"email":%q,"ticket":"HR-S%03d"}`, u.Email, i)
		valid[sendMessage(t, c, d.Res.QueueURL, body)] = u.Email
		if i%4 == 0 { // HR sends some requests twice
			valid[sendMessage(t, c, d.Res.QueueURL, body)] = u.Email
		}
	}
	malformed := map[string]bool{}
	for _, body := range []string{`not json`, `{"email":"no-at-sign"}`, `{"email":"a@example.com","dryrun":true}`, `{"email":"a@example.com","email":"b@example.com"}`} {
		malformed[sendMessage(t, c, d.Res.QueueURL, body)] = true
	}
	total := len(valid) + len(malformed)

	_, timeout, err := d.FunctionSettings("offboarding")
	if err != nil {
		t.Fatal(err)
	}
	crashAt := map[int]bool{1: true, 3: true}
	deletedTimes := map[string]int{}
	var batches, crashes, itemFailures, wholeFailures, advances int
	for iter := 0; iter < 200; iter++ {
		var cr *crasher
		if crashAt[batches] {
			cr = crashAfterRequests(fn, emu, 2+rng.IntN(10))
		}
		dl, ok, err := m.Poll(t.Context(), runtimeapi.InvokeOptions{})
		killed := cr != nil && cr.end()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if len(d.AWS.SQS.Messages(d.Res.QueueName)) == 0 {
				break
			}
			// Only messages in flight are left: their visibility timeout
			// (six times the function timeout) has to pass.
			clk.Advance(6*timeout + time.Second)
			advances++
			continue
		}
		batches++
		if dl.Result.InitDuration > 0 {
			d.s.recordInit(fn.name, dl.Result.InitDuration)
		}
		if killed && dl.Result.ErrorType == runtimeapi.ErrorTypeExit {
			crashes++
		}
		if dl.WholeBatchFailed {
			wholeFailures++
		}
		itemFailures += len(dl.Response.BatchItemFailures)
		for _, id := range dl.Deleted {
			deletedTimes[id]++
		}
	}
	if n := len(d.AWS.SQS.Messages(d.Res.QueueName)); n != 0 {
		t.Fatalf("%d messages never left the queue", n)
	}

	// Every valid message left the queue exactly once, after success.
	for id, email := range valid {
		if deletedTimes[id] != 1 {
			t.Errorf("valid message %s (%s) deleted %d times", id, email, deletedTimes[id])
		}
	}
	// Every person is gone, and one summary says "offboarded" per person.
	_ = fn.Close()
	offboarded := map[string]int{}
	for _, s := range fn.summaries() {
		if s["outcome"] == "offboarded" {
			offboarded[strings.ToLower(fmt.Sprint(s["email"]))]++
		}
	}
	for _, u := range leavers {
		if isUser(emu, u.Email) || len(membershipsOf(emu, u.ID)) > 0 {
			t.Errorf("%s is still in the organization", u.Email)
		}
		if n := offboarded[strings.ToLower(u.Email)]; n != 1 {
			t.Errorf("%s reported offboarded %d times", u.Email, n)
		}
	}
	// Every malformed message is in the dead-letter queue (at least once:
	// a batch killed after its dead-letter send is sent again), and nothing
	// valid is.
	dead := d.AWS.SQS.Messages(d.Res.DLQName)
	seen := map[string]int{}
	for _, msg := range dead {
		src := msg.Attributes["orgwarden-source-message-id"].StringValue
		if valid[src] != "" {
			t.Errorf("valid message %s dead-lettered: %s", src, msg.Attributes["orgwarden-error-reason"].StringValue)
		}
		seen[src]++
	}
	dupDead := 0
	for id := range malformed {
		if seen[id] == 0 {
			t.Errorf("malformed message %s is not in the dead-letter queue", id)
		}
		dupDead += max(0, seen[id]-1)
	}
	if crashes == 0 {
		t.Error("no batch was killed mid-way: the soak did not exercise a crash")
	}
	t.Logf("%d messages (%d valid, %d malformed) in %d batches: %d killed, %d whole-batch failures, %d item failures, %d visibility timeouts waited; dead-letter queue %d (%d repeated sends after a kill)",
		total, len(valid), len(malformed), batches, crashes, wholeFailures, itemFailures, advances, len(dead), dupDead)
}

// readersWithKeys returns up to n readers who own keys in projects they
// belong to.
func readersWithKeys(emu *adminapi.Emulator, n int) []adminapi.User {
	var out []adminapi.User
	for _, u := range emu.Users() {
		if len(out) < n && u.Role != "owner" && keysOf(emu, u.ID) > 0 {
			out = append(out, u)
		}
	}
	return out
}

func decode(t *testing.T, payload []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(payload, out); err != nil {
		t.Fatalf("response %s: %v", short(string(payload)), err)
	}
}
