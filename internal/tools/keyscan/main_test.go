package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// planted is shaped like an admin key; built at run time so that no key
// literal sits in the source.
var planted = "sk-admin-" + strings.Repeat("Zq3", 10)

func ev(action, pkg, test, output string) string {
	b, _ := json.Marshal(event{Action: action, Package: pkg, Test: test, Output: output})
	return string(b)
}

func TestScan(t *testing.T) {
	const p = "example.com/p"
	tests := []struct {
		name     string
		stream   []string
		verbose  bool
		wantCode int
		want     []string // in the output
		notWant  []string
	}{
		{
			name: "passing package prints its summary only",
			stream: []string{ev("start", p, "", ""), ev("run", p, "TestA", ""), ev("output", p, "TestA", "=== RUN   TestA\n"),
				ev("output", p, "TestA", "    a_test.go:3: chatter\n"), ev("output", p, "TestA", "--- PASS: TestA (0.00s)\n"), ev("pass", p, "TestA", ""),
				ev("output", p, "", "PASS\n"), ev("output", p, "", "ok  \texample.com/p\t0.01s\n"), ev("pass", p, "", "")},
			wantCode: 0, want: []string{"ok  \texample.com/p\t0.01s\n"}, notWant: []string{"chatter", "=== RUN"},
		},
		{
			name: "failing test prints its output and fails",
			stream: []string{ev("start", p, "", ""), ev("output", p, "TestB", "=== RUN   TestB\n"), ev("output", p, "TestB", "    b_test.go:9: boom\n"),
				ev("output", p, "TestB", "--- FAIL: TestB (0.00s)\n"), ev("fail", p, "TestB", ""), ev("output", p, "TestOK", "--- PASS: TestOK (0.00s)\n"),
				ev("pass", p, "TestOK", ""), ev("output", p, "", "FAIL\n"), ev("output", p, "", "FAIL\texample.com/p\t0.02s\n"), ev("fail", p, "", "")},
			wantCode: 1, want: []string{"--- FAIL: TestB (0.00s)\n", "b_test.go:9: boom", "FAIL\texample.com/p\t0.02s"}, notWant: []string{"=== RUN", "TestOK"},
		},
		{
			name: "key in a passing test's log fails the run, masked",
			stream: []string{ev("start", p, "", ""), ev("output", p, "TestC", "    c_test.go:4: using "+planted+" now\n"), ev("pass", p, "TestC", ""),
				ev("output", p, "", "ok  \texample.com/p\t0.01s\n"), ev("pass", p, "", "")},
			wantCode: 1, want: []string{"key material in the output of example.com/p TestC (line 1)", "1 output lines hold key material"}, notWant: []string{planted},
		},
		{
			name: "key in a failing test's output is masked where printed",
			stream: []string{ev("start", p, "", ""), ev("output", p, "TestD", "    d_test.go:4: got "+planted+"\n"), ev("fail", p, "TestD", ""),
				ev("output", p, "", "FAIL\texample.com/p\t0.01s\n"), ev("fail", p, "", "")},
			wantCode: 1, want: []string{"got sk-admin-[REDACTED]"}, notWant: []string{planted},
		},
		{
			name:     "key in a test name",
			stream:   []string{ev("start", p, "", ""), ev("output", p, "TestE/"+planted, "--- PASS\n"), ev("pass", p, "", "")},
			wantCode: 1, want: []string{"(a test name)"}, notWant: []string{planted},
		},
		{
			name: "a timed-out package prints the hung test's output",
			stream: []string{ev("start", p, "", ""), ev("output", p, "TestDone", "--- PASS: TestDone (0.00s)\n"), ev("pass", p, "TestDone", ""),
				ev("output", p, "TestHang", "=== RUN   TestHang\n"), ev("output", p, "TestHang", "panic: test timed out after 10m0s\n"),
				ev("output", p, "TestHang", "goroutine 7 [chan receive]:\n"), ev("output", p, "", "FAIL\texample.com/p\t600.0s\n"), ev("fail", p, "", "")},
			wantCode: 1, want: []string{"TestHang did not finish", "panic: test timed out after 10m0s", "goroutine 7 [chan receive]", "FAIL\texample.com/p\t600.0s"},
			notWant: []string{"TestDone"},
		},
		{
			name: "the API's redacted form is not key material",
			stream: []string{ev("start", p, "", ""), ev("output", p, "TestF", "    key sk-admin...Zq3 listed\n"), ev("pass", p, "TestF", ""),
				ev("output", p, "", "ok  \texample.com/p\t0.01s\n"), ev("pass", p, "", "")},
			wantCode: 0,
		},
		{
			name:     "build failure",
			stream:   []string{`{"ImportPath":"example.com/q [example.com/q.test]","Action":"build-output","Output":"q.go:1: syntax error\n"}`, `{"ImportPath":"example.com/q","Action":"build-fail"}`, ev("start", "example.com/q", "", ""), ev("output", "example.com/q", "", "FAIL\texample.com/q [build failed]\n"), ev("fail", "example.com/q", "", "")},
			wantCode: 1, want: []string{"q.go:1: syntax error", "FAIL\texample.com/q [build failed]"},
		},
		{
			name:     "no test stream",
			stream:   []string{"go: downloading example.com/x v1.0.0"},
			wantCode: 1, want: []string{"go: downloading", "no go test -json events"},
		},
		{
			name:    "verbose prints everything as it comes, masked",
			verbose: true,
			stream: []string{ev("start", p, "", ""), ev("output", p, "TestA", "=== RUN   TestA\n"), ev("output", p, "TestA", "    a_test.go:3: figure 42 with "+planted+"\n"),
				ev("pass", p, "TestA", ""), ev("output", p, "", "ok  \texample.com/p\t0.01s\n"), ev("pass", p, "", "")},
			wantCode: 1, want: []string{"=== RUN   TestA", "figure 42 with sk-admin-[REDACTED]", "ok  \texample.com/p"}, notWant: []string{planted},
		},
		{
			name:     "package without tests",
			stream:   []string{ev("start", p, "", ""), ev("output", p, "", "?   \texample.com/p\t[no test files]\n"), ev("skip", p, "", "")},
			wantCode: 0, want: []string{"[no test files]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			code := scan(strings.NewReader(strings.Join(tt.stream, "\n")+"\n"), &out, tt.verbose)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.wantCode, strings.ReplaceAll(out.String(), planted, "<planted>"))
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, strings.ReplaceAll(out.String(), planted, "<planted>"))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output holds %q", strings.ReplaceAll(w, planted, "<planted>"))
				}
			}
		})
	}
}
