// Command keyscan reads `go test -json` on stdin, prints what a plain
// `go test ./...` prints (one line per passing package, the output of
// failing tests and packages, build errors), and fails when any line any
// test wrote holds key material: a token shaped like an OpenAI key
// (sk-admin-…, sk-proj-…, sk-svcacct-… with a long tail), as
// shared/logging's redactor defines it. Keys are masked in what it prints.
//
//	set -o pipefail; go test -json ./... | go run ./internal/tools/keyscan
//
// With -v it prints every line as it arrives, like go test -v.
//
// The exit status is 1 when a package failed or did not build, when key
// material was found, or when stdin was not a test stream; 0 otherwise.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/orgwarden/orgwarden/shared/logging"
)

func main() {
	verbose := flag.Bool("v", false, "print every output line as it arrives (go test -v)")
	flag.Parse()
	os.Exit(scan(os.Stdin, os.Stdout, *verbose))
}

// event is a TestEvent (cmd/test2json) or a BuildEvent (go build -json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// leak is where key material was seen; never the key.
type leak struct {
	pkg, test string
	line      int // within the test's (or package's) output
}

type scanner struct {
	out   io.Writer
	leaks []leak
	// Output held per package and per test until its outcome is known.
	pkgOut  map[string][]string
	testOut map[string][]string
	// testOrder lists each package's tests in the order of their first
	// output, to print unfinished ones in a stable order.
	testOrder map[string][]string
	lines     map[string]int
	failed    bool
	verbose   bool
}

func scan(in io.Reader, out io.Writer, verbose bool) int {
	s := &scanner{out: out, verbose: verbose, pkgOut: map[string][]string{}, testOut: map[string][]string{}, testOrder: map[string][]string{}, lines: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	events := 0
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Action == "" {
			// Not an event (e.g. "go: downloading ..."): shown as it is, masked.
			s.check("", "", sc.Text())
			fmt.Fprintln(out, logging.Redact(sc.Text()))
			continue
		}
		events++
		s.handle(ev)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "keyscan: read:", err)
		return 1
	}
	for _, l := range s.leaks {
		where := l.pkg
		if l.test != "" {
			where += " " + l.test
		}
		fmt.Fprintf(out, "keyscan: key material in the output of %s (line %d); it is masked above\n", where, l.line)
	}
	switch {
	case events == 0:
		fmt.Fprintln(out, "keyscan: no go test -json events on stdin")
		return 1
	case len(s.leaks) > 0:
		fmt.Fprintf(out, "keyscan: FAIL: %d output lines hold key material\n", len(s.leaks))
		return 1
	case s.failed:
		return 1
	}
	return 0
}

func key(pkg, test string) string { return pkg + "\x00" + test }

// check records key material in text, a piece of output of pkg's test.
func (s *scanner) check(pkg, test, text string) {
	k := key(pkg, test)
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		s.lines[k]++
		if logging.Redact(line) != line {
			s.leaks = append(s.leaks, leak{pkg: pkg, test: test, line: s.lines[k]})
		}
	}
}

func (s *scanner) handle(ev event) {
	switch ev.Action {
	case "build-output":
		s.check(ev.ImportPath, "", ev.Output)
		fmt.Fprint(s.out, logging.Redact(ev.Output))
	case "build-fail":
		s.failed = true
	case "output":
		s.check(ev.Package, ev.Test, ev.Output)
		if logging.Redact(ev.Test) != ev.Test {
			s.leaks = append(s.leaks, leak{pkg: ev.Package, test: "(a test name)", line: 0})
		}
		if s.verbose {
			fmt.Fprint(s.out, logging.Redact(ev.Output))
			return
		}
		k := key(ev.Package, ev.Test)
		if ev.Test == "" {
			s.pkgOut[ev.Package] = append(s.pkgOut[ev.Package], ev.Output)
		} else {
			if _, seen := s.testOut[k]; !seen {
				s.testOrder[ev.Package] = append(s.testOrder[ev.Package], ev.Test)
			}
			s.testOut[k] = append(s.testOut[k], ev.Output)
		}
	case "fail":
		if ev.Test != "" {
			// A failed test's output belongs to its package's report.
			s.pkgOut[ev.Package] = append(s.pkgOut[ev.Package], s.testOut[key(ev.Package, ev.Test)]...)
			delete(s.testOut, key(ev.Package, ev.Test))
			return
		}
		s.failed = true
		if !s.verbose {
			s.flush(ev.Package, true)
		}
	case "pass", "skip":
		if ev.Test != "" {
			delete(s.testOut, key(ev.Package, ev.Test))
			return
		}
		if !s.verbose {
			s.flush(ev.Package, false)
		}
	}
}

// flush prints a finished package: all of its output when it failed, else
// only its summary line ("ok ...", "? ... [no test files]"). A failed
// package also prints the output of its tests that never finished: a test
// binary that panics or times out ("panic: test timed out", with the
// goroutine dump) ends without a fail event for the running tests, and
// that output is the only clue to what hung.
func (s *scanner) flush(pkg string, failed bool) {
	var summary []string
	for _, o := range s.pkgOut[pkg] {
		isSummary := strings.HasPrefix(o, "ok  \t") || strings.HasPrefix(o, "?   \t") || strings.HasPrefix(o, "FAIL\t")
		switch {
		case isSummary:
			summary = append(summary, o)
		case failed && (strings.HasPrefix(o, "=== ") || strings.HasPrefix(o, "--- PASS") || strings.HasPrefix(o, "--- SKIP")):
		case failed:
			fmt.Fprint(s.out, logging.Redact(o))
		}
	}
	for _, test := range s.testOrder[pkg] {
		k := key(pkg, test)
		if failed && len(s.testOut[k]) > 0 {
			fmt.Fprintf(s.out, "keyscan: %s did not finish; its output:\n", test)
			for _, o := range s.testOut[k] {
				fmt.Fprint(s.out, logging.Redact(o))
			}
		}
		delete(s.testOut, k)
	}
	for _, o := range summary {
		fmt.Fprint(s.out, logging.Redact(o))
	}
	delete(s.pkgOut, pkg)
	delete(s.testOrder, pkg)
}
