package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Metrics are one benchmark's reported figures by unit ("ns/op",
// "x_baseline", "events/s", ...).
type Metrics map[string]float64

// Results are benchmark figures by full name (sub-benchmarks included,
// without the -GOMAXPROCS suffix).
type Results map[string]Metrics

// benchRun is one `go test -bench` invocation.
type benchRun struct {
	Function  string
	Package   string
	Pattern   string
	Benchtime string
	Env       []string
}

// testEvent is one line of `go test -json` (cmd/test2json).
type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// runBench runs r and returns its results. The raw output (what the
// benchmarks printed) is copied to raw when it is not nil.
func runBench(ctx context.Context, root string, r benchRun, raw io.Writer) (Results, error) {
	args := []string{"test", "-run", "^$", "-bench", r.Pattern, "-benchtime", r.Benchtime, "-count", "1", "-timeout", "3h", "-json", r.Package}
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), r.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	text, failed, perr := readTestJSON(out, raw)
	werr := cmd.Wait()
	switch {
	case perr != nil:
		return nil, perr
	case werr != nil || failed:
		return nil, fmt.Errorf("go %s: %v\n%s%s", strings.Join(args, " "), werr, tail(text, 40), stderr.String())
	}
	return parseBenchmarks(text), nil
}

// readTestJSON joins the output of a `go test -json` stream and says
// whether anything failed. Benchmark lines may arrive in several output
// events (the name first, the figures when the run ends), so the text is
// joined before it is parsed.
func readTestJSON(r io.Reader, raw io.Writer) (string, bool, error) {
	var b strings.Builder
	failed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev testEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			// go test prints build errors as plain text.
			b.Write(sc.Bytes())
			b.WriteByte('\n')
			continue
		}
		switch ev.Action {
		case "output":
			b.WriteString(ev.Output)
			if raw != nil {
				_, _ = io.WriteString(raw, ev.Output)
			}
		case "fail":
			failed = true
		}
	}
	return b.String(), failed, sc.Err()
}

// benchLine is a benchmark result line: name, iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)

// parseBenchmarks reads the result lines of benchmark output. A name seen
// twice (-count > 1) keeps its last figures.
func parseBenchmarks(text string) Results {
	out := Results{}
	for _, line := range strings.Split(text, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		if len(fields)%2 != 0 {
			continue
		}
		metrics := Metrics{}
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				metrics = nil
				break
			}
			metrics[fields[i+1]] = v
		}
		if len(metrics) > 0 {
			out[m[1]] = metrics
		}
	}
	return out
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n") + "\n"
}

// goTool is the go command on PATH, else $GOROOT's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return root + "/bin/go"
	}
	return "go"
}
